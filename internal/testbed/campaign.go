package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/testbed/shop"
)

// CampaignConfig is a campaign: faults injected one after another into a
// running testbed, with healthy gaps between them.
type CampaignConfig struct {
	// Faults are the kinds, each injected Repeat times at a random target
	// (Seed picks them).
	Faults []string
	Repeat int
	Seed   uint64
	// WarmUp is the healthy time before the first fault, for seer's
	// detectors to learn the shop.
	WarmUp time.Duration
	// Gap is the healthy time before each fault in which any incident
	// opened is a false one; Settle the time after a fault is undone
	// before its gap begins: the aftermath of a fault is not health, and
	// seer hears of a trace up to its completion timeout (30 s) late.
	Gap, Settle time.Duration
	// For is how long a fault lasts at most; a fault whose stages are all
	// done ends sooner (after Linger).
	For, Linger time.Duration
	// Progress, when set, gets a line per step.
	Progress io.Writer
}

// ShortCampaign is every kind once, as CI runs it.
func ShortCampaign() CampaignConfig {
	return CampaignConfig{Faults: chaos.Kinds(), Repeat: 1, Seed: 1, WarmUp: 200 * time.Second,
		Gap: 15 * time.Second, Settle: 40 * time.Second, For: 60 * time.Second, Linger: 3 * time.Second}
}

// Row is one fault's outcome. Times are seconds after the injection; nil
// where the stage did not happen.
type Row struct {
	Fault  string `json:"fault"`
	Target string `json:"target"`
	// Injected is when the fault was put in force.
	Injected time.Time `json:"injected"`
	// DetectedS is when the first incident opened (or reopened) after the
	// injection that troubles the target or a service depending on it.
	DetectedS *float64 `json:"detected_s"`
	// RootCauseS is when an incident first ranked the target top.
	RootCauseS *float64 `json:"root_cause_s"`
	// RecoveredS is when a runbook's verification of the target
	// succeeded; only where a runbook applies (Runbook).
	RecoveredS *float64 `json:"recovered_s"`
	// Right says the fault's incident ranked the target top when the
	// fault ended (or when a runbook first acted on it).
	Right bool `json:"right"`
	// Runbook is the testbed runbook that applies to the kind, or "".
	Runbook string `json:"runbook,omitempty"`
	// Incident is the fault's incident, and its causes as judged.
	Incident int64    `json:"incident,omitempty"`
	Causes   []string `json:"causes,omitempty"`
	// Acted names the runbook runs seer made on this incident.
	Acted []string `json:"acted,omitempty"`
	// Step is the first step of a user command that seer's execution
	// fingerprints (trace.structure, trace.timeout) found deviating after
	// the injection, StepCallee the call its first fact names within it,
	// and StepRight whether either is a call into the target or a step of
	// the target's own; "" when none deviated.
	Step       string `json:"step,omitempty"`
	StepCallee string `json:"step_callee,omitempty"`
	StepRight  bool   `json:"step_right,omitempty"`
}

// Report is a campaign's outcome.
type Report struct {
	Rows []Row `json:"rows"`
	// FalseIncidents were opened in the healthy gaps; HealthyS is how
	// long the gaps lasted in all.
	FalseIncidents int      `json:"false_incidents"`
	FalseDetail    []string `json:"false_detail,omitempty"`
	HealthyS       float64  `json:"healthy_s"`
	Summary        Summary  `json:"summary"`
}

// Summary is the campaign in a few figures, against the 1/5/10 rule
// (detect within 1 min, root cause within 5, recovered within 10).
type Summary struct {
	Faults        int      `json:"faults"`
	Detected      int      `json:"detected"`
	Right         int      `json:"right"`
	Recoverable   int      `json:"recoverable"`
	Recovered     int      `json:"recovered"`
	MedianDetect  *float64 `json:"median_detect_s"`
	MedianRoot    *float64 `json:"median_root_cause_s"`
	MedianRecover *float64 `json:"median_recovered_s"`
	// Fingerprinted counts the faults whose effect an execution
	// fingerprint caught, Localised those whose first deviating step was
	// the target's.
	Fingerprinted int `json:"fingerprinted"`
	Localised     int `json:"localised"`
	// Within1510 counts rows that met the 1/5/10 rule at every stage
	// that applies.
	Within1510 int `json:"within_1_5_10"`
}

// runbookFor is the testbed runbook meant for a kind of fault, by the
// cause seer should find (see runbookYAML); "" where none applies.
func runbookFor(kind string) string {
	switch kind {
	case chaos.Kill, chaos.Hang, chaos.CPU, chaos.Leak:
		return "testbed-restart"
	case chaos.Disk:
		return "testbed-free-disk"
	case chaos.Config, chaos.Deploy:
		return "testbed-roll-back"
	}
	return ""
}

// seerAPI reads seer's incidents.
type seerAPI struct {
	url string
	c   *http.Client
}

func (s seerAPI) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (s seerAPI) incidents(ctx context.Context) ([]signal.Incident, error) {
	var out struct{ Incidents []signal.Incident }
	err := s.get(ctx, "/api/v1/incidents?limit=200", &out)
	return out.Incidents, err
}

func (s seerAPI) observations(ctx context.Context, kind string, since time.Time) ([]signal.Observation, error) {
	var out struct{ Observations []signal.Observation }
	err := s.get(ctx, "/api/v1/observations?limit=1000&kind="+kind+"&since="+since.UTC().Format(time.RFC3339Nano), &out)
	return out.Observations, err
}

// fingerprint finds the first deviation an execution fingerprint named
// in [t0, end]: the step it names and, where it names one, the callee step
// of its first fact ("slow:svc/op>svc/call").
func fingerprint(ctx context.Context, api seerAPI, t0, end time.Time) (step, callee string) {
	var first signal.Observation
	for _, k := range []signal.ObsKind{signal.TraceStructure, signal.TraceTimeout} {
		list, err := api.observations(ctx, string(k), t0.Add(-time.Minute))
		if err != nil {
			continue
		}
		for _, o := range list {
			if o.Start.Before(t0.Add(-time.Second)) || o.Start.After(end) || o.Evidence["step"] == "" {
				continue
			}
			if first.Evidence == nil || o.Start.Before(first.Start) {
				first = o
			}
		}
	}
	fact, _, _ := strings.Cut(first.Evidence["facts"], "\n")
	if _, to, ok := strings.Cut(fact, ">"); ok {
		callee = to
	}
	return first.Evidence["step"], callee
}

// stepOf reads the testbed's span names: a step is "SERVICE/OPERATION",
// and a call's operation "METHOD PEER/ROUTE" (shop's client spans).
func stepOf(step string) (service, peer string) {
	service, op, _ := strings.Cut(step, "/")
	if _, rest, ok := strings.Cut(op, " "); ok {
		peer, _, _ = strings.Cut(rest, "/")
	}
	return service, peer
}

func (s seerAPI) executions(ctx context.Context, id int64) ([]signal.Execution, error) {
	var out struct{ Executions []signal.Execution }
	err := s.get(ctx, "/api/v1/executions?incident="+strconv.FormatInt(id, 10), &out)
	return out.Executions, err
}

// resolveOpen resolves every open incident and returns them.
func (s seerAPI) resolveOpen(ctx context.Context) ([]signal.Incident, error) {
	list, err := s.incidents(ctx)
	if err != nil {
		return nil, err
	}
	var done []signal.Incident
	for _, in := range list {
		if in.Status == signal.IncidentResolved {
			continue
		}
		if err := post(ctx, s.url+"/api/v1/incidents/"+strconv.FormatInt(in.ID, 10)+"/resolve", "application/json", []byte("{}")); err != nil {
			return done, err
		}
		done = append(done, in)
	}
	return done, nil
}

func describe(in signal.Incident) string {
	c := in.Top()
	return fmt.Sprintf("incident %d at %s: %s %s (%.2f)", in.ID, in.Opened.Format(time.TimeOnly), c.Entity, c.Kind, c.Score)
}

func causes(in signal.Incident) []string {
	var out []string
	for i, c := range in.Causes {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%s %s %.2f", c.Entity, c.Kind, c.Score))
	}
	return out
}

// Campaign runs a campaign on a running testbed and judges seer.
func (t *Testbed) Campaign(ctx context.Context, cc CampaignConfig) (Report, error) {
	var rep Report
	if t.seerAddr == "" {
		return rep, errors.New("campaign: the testbed runs without seer")
	}
	say := func(format string, args ...any) {
		if cc.Progress != nil {
			fmt.Fprintf(cc.Progress, "%s "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
		}
	}
	api := seerAPI{url: t.SeerURL(), c: &http.Client{Timeout: 10 * time.Second}}
	rng := rand.New(rand.NewPCG(cc.Seed, 19))
	var plan [][2]string
	for range max(cc.Repeat, 1) {
		for _, k := range cc.Faults {
			ts := chaos.Targets(k, t.Services(), Called())
			if len(ts) == 0 {
				return rep, fmt.Errorf("campaign: no target for %s", k)
			}
			plan = append(plan, [2]string{k, ts[rng.IntN(len(ts))]})
		}
	}
	say("warm-up %s", cc.WarmUp)
	if err := sleep(ctx, cc.WarmUp); err != nil {
		return rep, err
	}
	for i, p := range plan {
		// A healthy gap: what opens in it is a false incident.
		if _, err := api.resolveOpen(ctx); err != nil {
			return rep, err
		}
		gapStart := time.Now()
		if err := sleep(ctx, cc.Gap); err != nil {
			return rep, err
		}
		opened, err := api.resolveOpen(ctx)
		if err != nil {
			return rep, err
		}
		rep.HealthyS += time.Since(gapStart).Seconds()
		for _, in := range opened {
			// Every incident was resolved when the gap began: one open now
			// opened in it, or reopened.
			if !in.Updated.Before(gapStart) {
				rep.FalseIncidents++
				rep.FalseDetail = append(rep.FalseDetail, fmt.Sprintf("before %s %s: %s", p[0], p[1], describe(in)))
				say("false incident in the gap: %s", describe(in))
			}
		}
		row, err := t.judge(ctx, api, p[0], p[1], cc)
		if err != nil {
			return rep, err
		}
		say("%d/%d %s %s: detected %s, root cause %s, recovered %s, right %v; %v %v", i+1, len(plan), row.Fault, row.Target,
			secs(row.DetectedS), secs(row.RootCauseS), secs(row.RecoveredS), row.Right, row.Causes, row.Acted)
		rep.Rows = append(rep.Rows, row)
		if b, err := json.Marshal(row); err == nil {
			appendLine(filepath.Join(t.cfg.Dir, "campaign.jsonl"), b)
		}
		if err := sleep(ctx, cc.Settle); err != nil {
			return rep, err
		}
	}
	rep.Summary = summarize(rep.Rows)
	return rep, nil
}

// appendLine adds a line to a file: a campaign's rows as they are judged,
// so that a campaign cut short still leaves its figures.
func appendLine(path string, b []byte) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	f.Write(append(b, '\n'))
	f.Close()
}

func secs(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1fs", *p)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func since(t0, t time.Time) *float64 {
	s := max(t.Sub(t0).Seconds(), 0)
	return &s
}

// judge injects one fault and watches seer until every stage that applies
// happened or the fault's time is up; then it undoes the fault.
func (t *Testbed) judge(ctx context.Context, api seerAPI, kind, target string, cc CampaignConfig) (Row, error) {
	row := Row{Fault: kind, Target: target, Runbook: runbookFor(kind)}
	in, err := t.injector.Inject(ctx, kind, target, cc.For, nil)
	if err != nil {
		return row, err
	}
	defer t.injector.Stop(context.WithoutCancel(ctx), in.ID, "stopped")
	t0 := in.Start
	row.Injected = t0
	seen := map[int64]time.Time{} // incident → when first seen open after t0
	upstream := dependents(target)
	var judged *signal.Incident
	var doneAt time.Time
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for time.Since(t0) < cc.For {
		select {
		case <-ctx.Done():
			return row, ctx.Err()
		case <-tick.C:
		}
		now := time.Now()
		list, err := api.incidents(ctx)
		if err != nil {
			continue // seer busy: ask again
		}
		var mine []signal.Incident
		for _, x := range list {
			if x.Status == signal.IncidentResolved || x.Updated.Before(t0) {
				continue
			}
			if _, ok := seen[x.ID]; !ok {
				seen[x.ID] = now
				if !x.Opened.Before(t0) {
					seen[x.ID] = x.Opened
				}
			}
			mine = append(mine, x)
		}
		if len(mine) == 0 {
			continue
		}
		if row.DetectedS == nil {
			// Detected by an incident that troubles the target or a
			// service that depends on it: one about something else is
			// noise that happened to open then.
			first := time.Time{}
			for _, x := range mine {
				if slices.ContainsFunc(x.Entities, func(e string) bool { return upstream[e] }) && (first.IsZero() || seen[x.ID].Before(first)) {
					first = seen[x.ID]
				}
			}
			if !first.IsZero() {
				row.DetectedS = since(t0, first)
			}
		}
		// The fault's incident: one that troubles the target, else the
		// earliest.
		sort.Slice(mine, func(a, b int) bool { return seen[mine[a].ID].Before(seen[mine[b].ID]) })
		pick := mine[0]
		for _, x := range mine {
			if slices.Contains(x.Entities, target) {
				pick = x
				break
			}
		}
		for _, x := range mine {
			if x.Top().Entity == target && row.RootCauseS == nil {
				row.RootCauseS = since(t0, now)
				pick = x
			}
		}
		ex, _ := api.executions(ctx, pick.ID)
		acted := false
		row.Acted = row.Acted[:0]
		for _, e := range ex {
			if e.Status == "planned" || e.Status == "skipped" || e.Started.Before(t0) {
				continue // not a run for this fault
			}
			row.Acted = append(row.Acted, e.Runbook+"/"+e.Step+":"+e.Status)
			acted = acted || e.Step != "verify"
			if e.Step == "verify" && e.Status == "succeeded" && e.Target == target && row.RecoveredS == nil {
				row.RecoveredS = since(t0, e.Ended)
			}
		}
		if judged == nil || !acted {
			// As the fault stands; frozen once a runbook acted on it.
			p := pick
			judged = &p
		}
		finished := row.DetectedS != nil && row.RootCauseS != nil && (row.Runbook == "" || row.RecoveredS != nil)
		switch {
		case !finished:
			doneAt = time.Time{}
		case doneAt.IsZero():
			doneAt = now
		case now.Sub(doneAt) >= cc.Linger:
			row.Step, row.StepCallee = fingerprint(ctx, api, t0, now)
			return finish(row, judged), nil
		}
	}
	row.Step, row.StepCallee = fingerprint(ctx, api, t0, time.Now())
	return finish(row, judged), nil
}

// dependents is the target and every service that calls it, directly or
// not: where its fault can show.
func dependents(target string) map[string]bool {
	out := map[string]bool{target: true}
	for changed := true; changed; {
		changed = false
		for _, s := range shop.Specs() {
			if !out[s.Name] && slices.ContainsFunc(s.Calls, func(c string) bool { return out[c] }) {
				out[s.Name], changed = true, true
			}
		}
	}
	return out
}

func finish(row Row, in *signal.Incident) Row {
	for _, st := range []string{row.Step, row.StepCallee} {
		if svc, peer := stepOf(st); st != "" && (svc == row.Target || peer == row.Target) {
			row.StepRight = true
		}
	}
	if in != nil {
		row.Incident = in.ID
		row.Causes = causes(*in)
		row.Right = in.Top().Entity == row.Target
	}
	return row
}

func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return &m
}

func summarize(rows []Row) Summary {
	var s Summary
	var det, root, rec []float64
	for _, r := range rows {
		s.Faults++
		ok := true
		if r.DetectedS != nil {
			s.Detected++
			det = append(det, *r.DetectedS)
			ok = ok && *r.DetectedS <= 60
		} else {
			ok = false
		}
		if r.Right {
			s.Right++
		}
		if r.RootCauseS != nil {
			root = append(root, *r.RootCauseS)
			ok = ok && *r.RootCauseS <= 300
		} else {
			ok = false
		}
		if r.Runbook != "" {
			s.Recoverable++
			if r.RecoveredS != nil {
				s.Recovered++
				rec = append(rec, *r.RecoveredS)
				ok = ok && *r.RecoveredS <= 600
			} else {
				ok = false
			}
		}
		if ok {
			s.Within1510++
		}
		if r.Step != "" {
			s.Fingerprinted++
			if r.StepRight {
				s.Localised++
			}
		}
	}
	s.MedianDetect, s.MedianRoot, s.MedianRecover = median(det), median(root), median(rec)
	return s
}
