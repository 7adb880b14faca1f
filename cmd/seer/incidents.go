package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// runIncidents lists the incidents of a running seer: seer incidents
// [--status open] [--since 24h] [--json].
func runIncidents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("incidents", stderr)
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to ask")
	status := fs.String("status", "", "open, mitigating or resolved; empty: all")
	since := fs.String("since", "", "updated since: a time ago (24h) or RFC 3339")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: seer incidents takes no argument, got %q", errUsage, pos[0])
	}
	q := url.Values{}
	if *status != "" {
		q.Set("status", *status)
	}
	if *since != "" {
		q.Set("since", *since)
	}
	out, err := getJSON(ctx, *server, "/api/v1/incidents?"+q.Encode(), "the incidents")
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(out)
		return err
	}
	var list struct {
		Incidents []signal.Incident `json:"incidents"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", *server, err)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATUS\tACK\tOPENED\tCAUSE\tTITLE")
	for _, in := range list.Incidents {
		cause := "-"
		if len(in.Causes) > 0 {
			cause = in.Causes[0].Entity
		}
		ack := "-"
		if !in.Acknowledged.IsZero() {
			ack = orDash(in.AcknowledgedBy)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Status, ack, in.Opened.Format(time.RFC3339), cause, in.Title)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "yes"
	}
	return s
}

// runIncident is seer incident show ID [--json].
func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "show" {
		return fmt.Errorf("%w: seer incident show ID [--json]", errUsage)
	}
	fs := newFlagSet("incident show ID", stderr)
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to ask")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	id, err := incidentID(pos, "incident show")
	if err != nil {
		return err
	}
	out, err := getJSON(ctx, *server, fmt.Sprintf("/api/v1/incidents/%d", id), "the incident")
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(out)
		return err
	}
	var got struct {
		Incident     signal.Incident      `json:"incident"`
		Observations []signal.Observation `json:"observations"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", *server, err)
	}
	in := got.Incident
	fmt.Fprintf(stdout, "incident %d  %s  %s\n", in.ID, in.Status, in.Title)
	fmt.Fprintf(stdout, "  onset %s  opened %s  updated %s\n", in.Onset.Format(time.RFC3339), in.Opened.Format(time.RFC3339), in.Updated.Format(time.RFC3339))
	if !in.Acknowledged.IsZero() {
		fmt.Fprintf(stdout, "  acknowledged %s by %s\n", in.Acknowledged.Format(time.RFC3339), orDash(in.AcknowledgedBy))
	}
	for i, c := range in.Causes {
		if i == 5 {
			break
		}
		fmt.Fprintf(stdout, "  cause %d: %s (%s) %.2f\n", i+1, c.Entity, c.Kind, c.Score)
		for _, e := range c.Evidence {
			fmt.Fprintf(stdout, "    - %s\n", e)
		}
	}
	if in.Runbook != nil {
		fmt.Fprintf(stdout, "  runbook %s (%s) on %s: %s\n", in.Runbook.Name, in.Runbook.Mode, in.Runbook.Target, strings.Join(in.Runbook.Actions, "; "))
	}
	for _, o := range got.Observations {
		fmt.Fprintf(stdout, "  %s  %s\n", o.Time.Format(time.RFC3339), o.Summary)
	}
	return nil
}

// runAct is seer ack|resolve|reopen ID: args start with the verb.
func runAct(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := args[0]
	fs := newFlagSet(verb+" INCIDENT", stderr)
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to tell")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	id, err := incidentID(pos, verb)
	if err != nil {
		return err
	}
	out, err := postJSON(ctx, *server, fmt.Sprintf("/api/v1/incidents/%d/%s", id, verb), "the "+verb, struct{}{})
	if err != nil {
		return err
	}
	var got struct {
		Incident signal.Incident `json:"incident"`
		By       string          `json:"by"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", *server, err)
	}
	fmt.Fprintf(stdout, "incident %d: %s (%s by %s)\n", id, got.Incident.Status, verb, orDash(got.By))
	return nil
}

func incidentID(pos []string, cmd string) (int64, error) {
	if len(pos) != 1 {
		return 0, fmt.Errorf("%w: give one incident id: seer %s ID", errUsage, cmd)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: incident %q is not a positive whole number; list them with seer incidents", errUsage, pos[0])
	}
	return id, nil
}
