package infer

import (
	"fmt"
	"strings"

	"github.com/seerops/seer/internal/signal"
)

// Explanation is the assistant's view of an incident: what happened, why
// the top cause, what else was considered and why it ranks lower, and which
// rules fired.
type Explanation struct {
	IncidentID int64    `json:"incident_id"`
	What       string   `json:"what"`
	Why        []string `json:"why"`
	Considered []string `json:"considered"`
	Rules      []string `json:"rules"`
	Feedback   string   `json:"feedback,omitempty"`
	// Text is the whole explanation as a few short paragraphs.
	Text string `json:"text"`
}

// Explain writes the assistant view of an incident from its ranked causes
// and their evidence.
func Explain(in signal.Incident) Explanation {
	ex := Explanation{IncidentID: in.ID}
	span := ""
	if !in.Resolved.IsZero() {
		span = fmt.Sprintf(", resolved at %s", in.Resolved.UTC().Format("15:04:05"))
	}
	ex.What = fmt.Sprintf("%s: %d entities turned anomalous from %s (%s%s).", in.Title, len(in.Entities),
		in.Onset.UTC().Format("15:04:05"), in.Status, span)
	if len(in.Causes) == 0 {
		ex.Text = ex.What + "\nNo root cause could be ranked yet."
		return ex
	}
	top := in.Causes[0]
	for _, e := range top.Evidence {
		if strings.HasPrefix(e, "rule") {
			ex.Rules = append(ex.Rules, e)
			continue
		}
		ex.Why = append(ex.Why, e)
	}
	for _, c := range in.Causes[1:] {
		reason := "less localised evidence"
		for _, e := range c.Evidence {
			if strings.Contains(e, "likely a victim") || strings.Contains(e, "after the incident's first") || strings.Contains(e, "rejected") {
				reason = e
				break
			}
		}
		ex.Considered = append(ex.Considered, fmt.Sprintf("%s (%s, %.2f vs %.2f): %s", c.Entity, kindOr(c.Kind), c.Score, top.Score, reason))
		for _, e := range c.Evidence {
			if strings.HasPrefix(e, "rule") {
				ex.Rules = append(ex.Rules, c.Entity+": "+e)
			}
		}
	}
	if f := FeedbackOf(in); f.Confirm != "" || len(f.Reject) > 0 {
		ex.Feedback = fmt.Sprintf("operator %s confirmed %q, rejected %q", f.By, f.Confirm, strings.Join(f.Reject, ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nMost likely cause: %s (%s, score %.2f), because:\n", ex.What, top.Entity, kindOr(top.Kind), top.Score)
	for _, w := range ex.Why {
		fmt.Fprintf(&b, "  - %s\n", w)
	}
	if len(ex.Considered) > 0 {
		b.WriteString("Also considered:\n")
		for _, c := range ex.Considered {
			fmt.Fprintf(&b, "  - %s\n", c)
		}
	}
	if len(ex.Rules) > 0 {
		b.WriteString("Rules that fired:\n")
		for _, r := range ex.Rules {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	} else {
		b.WriteString("No rule fired.\n")
	}
	if ex.Feedback != "" {
		fmt.Fprintf(&b, "Feedback: %s\n", ex.Feedback)
	}
	ex.Text = b.String()
	return ex
}

func kindOr(k string) string {
	if k == "" {
		return "anomalous"
	}
	return k
}
