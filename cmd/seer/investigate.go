package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/seerops/seer/internal/api"
)

// runInvestigate runs `seer investigate --at T [--service S]`: it asks a
// running seer to rank the causes of trouble around T and prints them with
// their evidence.
func runInvestigate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("investigate", stderr)
	at := fs.String("at", "now", "when the trouble was seen: now, a time ago such as 5m (by the server's clock), RFC 3339 or unix seconds")
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
	body := map[string]any{"entity": *service}
	if *at != "now" && *at != "" {
		body["at"] = *at // the server reads it, a time ago by its own clock
	}
	out, err := postJSON(ctx, *server, "/api/v1/investigations", "the investigation", body)
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
