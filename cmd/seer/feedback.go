package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// runFeedback tells a running seer whether its diagnosis was right:
// seer feedback 42 --confirm payment [--reject db] [--label team=pay].
func runFeedback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("feedback INCIDENT", stderr)
	confirm := fs.String("confirm", "", "the entity that was the root cause")
	var reject listFlag
	fs.Var(&reject, "reject", "an entity that was not the root cause (repeatable)")
	var labels attrFlag
	fs.Var(&labels, "label", "a label key=value for the incident (repeatable)")
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to send it to")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give one incident id", errUsage)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: the incident id must be a positive number, got %q", errUsage, pos[0])
	}
	if *confirm == "" && len(reject) == 0 && len(labels) == 0 {
		return fmt.Errorf("%w: give --confirm ENTITY, --reject ENTITY or --label k=v", errUsage)
	}
	body := map[string]any{"confirm": *confirm, "reject": []string(reject), "labels": map[string]string(labels)}
	if _, err := postJSON(ctx, *server, "/api/v1/incidents/"+pos[0]+"/feedback", "the feedback", body); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "feedback on incident %d recorded\n", id)
	return nil
}

// listFlag collects a repeated flag's values.
type listFlag []string

func (l *listFlag) String() string { return fmt.Sprint([]string(*l)) }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("want a name")
	}
	*l = append(*l, s)
	return nil
}
