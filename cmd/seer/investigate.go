package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seerops/seer/internal/api"
)

// runInvestigate runs `seer investigate --at T [--service S]`: it asks a
// running seer to rank the causes of trouble around T and prints them with
// their evidence.
func runInvestigate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("investigate", stderr)
	at := fs.String("at", "now", "when the trouble was seen: RFC 3339, unix seconds, now, or a time ago such as -5m")
	service := fs.String("service", "", "keep the causes to this service and what it depends on")
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to ask")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: investigate: unexpected argument %q", errUsage, pos[0])
	}
	t, err := whenFlag(*at, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --at: %v", errUsage, err)
	}
	out, err := postJSON(ctx, *server, "/api/v1/investigations", "the investigation",
		map[string]any{"at": t.Format(time.RFC3339Nano), "entity": *service})
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(out)
		return err
	}
	var inv api.Investigation
	if err := json.Unmarshal(out, &inv); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	fmt.Fprintf(stdout, "causes of trouble around %s", inv.At.Format(time.RFC3339))
	if inv.Entity != "" {
		fmt.Fprintf(stdout, " at %s", inv.Entity)
	}
	fmt.Fprintln(stdout)
	if len(inv.Causes) == 0 {
		fmt.Fprintln(stdout, "  nothing changed for the worse around then")
	}
	for i, c := range inv.Causes {
		fmt.Fprintf(stdout, "%2d. %s  %s  score %.2f\n", i+1, c.Entity, c.Kind, c.Score)
		for _, e := range c.Evidence {
			fmt.Fprintf(stdout, "      %s\n", e)
		}
	}
	return nil
}

// whenFlag reads a time flag: now, a duration ago (-5m, 5m), RFC 3339 or
// unix seconds.
func whenFlag(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" {
		return now.UTC(), nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	var sec float64
	if _, err := fmt.Sscanf(s, "%g", &sec); err == nil && sec > 0 {
		return time.Unix(0, int64(sec*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not now, a duration ago (-5m), RFC 3339 or unix seconds", s)
}
