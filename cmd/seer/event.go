package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// runEvent sends one change event to a running seer, for CI/CD pipelines:
// seer event deploy --service checkout --text "v1.4.2".
func runEvent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("event KIND", stderr)
	service := fs.String("service", "", "the entity the change is about (required)")
	text := fs.String("text", "", "what changed, e.g. the version deployed")
	source := fs.String("source", "cli", "who made the change")
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to send it to")
	var attrs attrFlag
	fs.Var(&attrs, "attr", "an attribute key=value (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give one event kind (deploy, config, upgrade, scale, restart, rollback, alarm)", errUsage)
	}
	ev := signal.Event{Time: time.Now().UTC(), Entity: *service, Kind: signal.EventKind(pos[0]), Text: *text, Source: *source, Attrs: attrs}
	if !ev.Kind.Valid() {
		return fmt.Errorf("%w: unknown event kind %q: give deploy, config, upgrade, scale, restart, rollback or alarm", errUsage, pos[0])
	}
	if ev.Entity == "" {
		return fmt.Errorf("%w: --service is required", errUsage)
	}
	if _, err := postJSON(ctx, *server, "/api/v1/events", "the event", ev); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %s event for %s\n", ev.Kind, ev.Entity)
	return nil
}

// attrFlag collects repeated key=value flags.
type attrFlag map[string]string

func (a *attrFlag) String() string { return fmt.Sprint(map[string]string(*a)) }

func (a *attrFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	if *a == nil {
		*a = attrFlag{}
	}
	(*a)[k] = v
	return nil
}
