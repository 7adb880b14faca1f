package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/seerops/seer/internal/signal"
)

// runApprove approves or rejects the runbook run waiting on an incident:
// seer approve 42, seer reject 42 --reason "not now". args start with the
// verb, approve or reject. The decision is recorded under the name of the
// token in SEER_TOKEN.
func runApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := "approve"
	if len(args) > 0 && (args[0] == "approve" || args[0] == "reject") {
		verb, args = args[0], args[1:]
	}
	fs := newFlagSet(verb+" INCIDENT", stderr)
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to send the decision to")
	reason := fs.String("reason", "", "why (kept with a rejection)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give one incident id: seer %s INCIDENT [--server URL] [--reason TEXT]", errUsage, verb)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: incident %q is not a positive whole number; see the ids with GET /api/v1/incidents", errUsage, pos[0])
	}
	out, err := postJSON(ctx, *server, fmt.Sprintf("/api/v1/incidents/%d/%s", id, verb), "the decision", struct {
		Reason string `json:"reason,omitempty"`
	}{*reason})
	if err != nil {
		return err
	}
	var ok struct {
		Decision   string             `json:"decision"`
		By         string             `json:"by"`
		Executions []signal.Execution `json:"executions"`
	}
	if err := json.Unmarshal(out, &ok); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", *server, err)
	}
	fmt.Fprintf(stdout, "incident %d: %s by %s\n", id, ok.Decision, ok.By)
	for _, e := range ok.Executions {
		fmt.Fprintf(stdout, "  %s/%s  %s\n", e.Runbook, e.Step, e.Input)
	}
	return nil
}
