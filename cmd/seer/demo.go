package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/eval/simrun"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// demoResult is the JSON contract of `seer demo --json`.
type demoResult struct {
	Fault struct {
		Kind   string `json:"kind"`
		Target string `json:"target,omitempty"`
	} `json:"fault"`
	DetectedAfter  *float64       `json:"detected_after_s"`
	DiagnosedAfter *float64       `json:"diagnosed_after_s"`
	RootCauses     []demoCause    `json:"root_causes"`
	Runbook        *demoRunbook   `json:"runbook"`
	Incidents      int            `json:"incidents"`
	Run            map[string]any `json:"run"`
}

type demoCause struct {
	Entity   string   `json:"entity"`
	Kind     string   `json:"kind,omitempty"`
	Score    float64  `json:"score"`
	Evidence []string `json:"evidence"`
}

type demoRunbook struct {
	Name    string   `json:"name"`
	Mode    string   `json:"mode"`
	Target  string   `json:"target"`
	Actions []string `json:"actions"`
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	kinds := []string{simrun.None}
	for _, k := range sim.FaultKinds() {
		kinds = append(kinds, string(k))
	}
	fault := fs.String("fault", string(sim.FaultLatency), "the fault to inject: "+strings.Join(kinds, ", "))
	target := fs.String("target", "", "the service the fault hits (default "+simrun.DefaultTarget+")")
	asJSON := fs.Bool("json", false, "run headless, faster than real time, and print one JSON object")
	stay := fs.Bool("stay", false, "keep the engine and its API up after the run")
	addr := fs.String("http", "127.0.0.1:7070", "where --stay serves the API")
	seed := fs.Int64("seed", 1, "the simulated world's seed")
	after := fs.Duration("after", 0, "how long to run after the fault (default 40s live, 2m with --json; 6m for a leak)")
	speed := fs.Float64("speed", 1, "live pace: simulated seconds per real second")
	dataDir := fs.String("data-dir", "", "keep the knowledge store here (default: a temporary directory)")
	wait := fs.Duration("wait", 0, "live: how long to wait after the backfill before the fault, the shop healthy (time to open the web UI of --stay)")
	runbooks := fs.String("runbooks", "", "a directory of runbooks (YAML) to load beside the built-in ones, to try yours on the demo")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if !validKind(*fault, kinds) {
		return fmt.Errorf("%w: --fault %q: give one of %s", errUsage, *fault, strings.Join(kinds, ", "))
	}
	if *speed <= 0 {
		return fmt.Errorf("%w: --speed must be positive", errUsage)
	}
	if *wait < 0 || *wait > 0 && *asJSON {
		return fmt.Errorf("%w: --wait is a positive duration of the live demo (not with --json)", errUsage)
	}
	logger, err := newLogger(stderr, "error")
	if err != nil {
		return err
	}
	o := simrun.Options{Seed: *seed, Fault: *fault, Target: *target, After: *after, DataDir: *dataDir, Logger: logger}
	if *runbooks != "" {
		if st, err := os.Stat(*runbooks); err != nil || !st.IsDir() {
			return fmt.Errorf("%w: --runbooks %s is not a directory", errUsage, *runbooks)
		}
		cfg := engine.Default()
		cfg.Bus.Sync = true // as simrun runs its engine
		cfg.RunbookDir = *runbooks
		o.Engine = &cfg
	}
	if o.After == 0 && !*asJSON {
		o.After = 40 * time.Second
		if *fault == string(sim.FaultLeak) {
			// A leak takes minutes to ramp: watch it at 10x unless told.
			o.After = simrun.DefaultAfter(*fault)
			if !flagSet(fs, "speed") {
				*speed = 10
			}
		}
	}
	var srv *http.Server
	if *stay {
		if !auth.Loopback(*addr) {
			return fmt.Errorf("%w: --http %s is not loopback; the demo serves its API without tokens, so keep it on 127.0.0.1 (seer run serves others, with tokens)", errUsage, *addr)
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("--stay needs %s free (or give --http): %w", *addr, err)
		}
		srv = engine.NewHTTPServer(nil)
		o.OnEngine = func(e *engine.Engine) {
			srv.Handler = e.Handler()
			go srv.Serve(ln)
		}
		o.Linger = func(ctx context.Context, _ *engine.Engine) error {
			fmt.Fprintf(stderr, "\nThe engine stays up (Ctrl-C to stop). Look at:\n  http://%[1]s/ (the web UI)\n  http://%[1]s/api/v1/incidents\n  http://%[1]s/api/v1/services\n  http://%[1]s/api/v1/observations\n  http://%[1]s/metrics\n", ln.Addr())
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		}
	}
	if *asJSON {
		res, err := simrun.Run(ctx, o)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(toDemoResult(res))
	}
	return liveDemo(ctx, o, *speed, *wait, stdout)
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func validKind(k string, kinds []string) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func toDemoResult(res simrun.Result) demoResult {
	var out demoResult
	out.Fault.Kind = string(res.Fault.Kind)
	out.Fault.Target = res.Fault.Target
	if out.Fault.Kind == "" {
		out.Fault.Kind = simrun.None
	}
	out.RootCauses = []demoCause{}
	out.Incidents = len(res.Incidents)
	out.Run = map[string]any{
		"steps": res.Steps, "wall_s": round(res.Wall.Seconds()), "observations": len(res.Observations),
	}
	if res.Fault.Kind == "" || res.Incident == nil {
		return out
	}
	if res.DetectedAfter >= 0 {
		v := round(res.DetectedAfter.Seconds())
		out.DetectedAfter = &v
	}
	if res.DiagnosedAfter >= 0 {
		v := round(res.DiagnosedAfter.Seconds())
		out.DiagnosedAfter = &v
	}
	for _, c := range res.Incident.Causes {
		out.RootCauses = append(out.RootCauses, demoCause{Entity: c.Entity, Kind: c.Kind, Score: round(c.Score), Evidence: c.Evidence})
	}
	if rb := res.Incident.Runbook; rb != nil {
		out.Runbook = &demoRunbook{Name: rb.Name, Mode: rb.Mode, Target: rb.Target, Actions: rb.Actions}
	}
	return out
}

func round(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// liveDemo runs the demo in real time and prints a timeline.
// wait is how long to hold the healthy shop after the backfill, before the
// fault.
func liveDemo(ctx context.Context, o simrun.Options, speed float64, wait time.Duration, w io.Writer) error {
	var mu sync.Mutex
	injected := false
	var injectedAt time.Time
	shown := map[int64]string{} // incident id → top cause last shown
	at := func(t time.Time) string {
		if injectedAt.IsZero() {
			return t.UTC().Format(time.TimeOnly)
		}
		return fmt.Sprintf("%s +%4.0fs", t.UTC().Format(time.TimeOnly), t.Sub(injectedAt).Seconds())
	}
	o.Hooks.Observation = func(ob signal.Observation) {
		mu.Lock()
		defer mu.Unlock()
		if !injected {
			return
		}
		fmt.Fprintf(w, "  %s  observed  %-13s %-18s %s\n", at(ob.Time), ob.Entity, ob.Kind, ob.Summary)
	}
	falseAlarms := map[int64]bool{}
	o.Hooks.Incident = func(in signal.Incident) {
		mu.Lock()
		defer mu.Unlock()
		if !injected {
			// Raised during the backfill, before any fault: a false alarm,
			// counted and reported at the end rather than interleaved with
			// the backfill.
			falseAlarms[in.ID] = true
			return
		}
		key := string(in.Status) + "|" + in.Top().Entity
		if shown[in.ID] == key {
			return
		}
		first := shown[in.ID] == ""
		shown[in.ID] = key
		switch {
		case in.Status == signal.IncidentResolved:
			fmt.Fprintf(w, "  %s  INCIDENT #%d resolved\n", at(in.Updated), in.ID)
			return
		case first:
			fmt.Fprintf(w, "  %s  INCIDENT #%d opened: %s\n", at(in.Updated), in.ID, in.Title)
		default:
			fmt.Fprintf(w, "  %s  INCIDENT #%d re-ranked: %s\n", at(in.Updated), in.ID, in.Title)
		}
		for i, c := range in.Causes {
			if i == 3 {
				break
			}
			fmt.Fprintf(w, "              %d. %-12s %-12s score %.2f\n", i+1, c.Entity, c.Kind, c.Score)
			for j, ev := range c.Evidence {
				if i > 0 && j == 1 || j == 4 {
					break
				}
				fmt.Fprintf(w, "                   - %s\n", ev)
			}
		}
		if rb := in.Runbook; rb != nil {
			fmt.Fprintf(w, "              runbook %q nominated (%s) for %s:\n", rb.Name, rb.Mode, rb.Target)
			for _, a := range rb.Actions {
				fmt.Fprintf(w, "                   %s\n", a)
			}
		}
	}
	var wallStart time.Time
	o.OnInject = func(f sim.Fault) {
		mu.Lock()
		defer mu.Unlock()
		injected, injectedAt = true, f.Start
		fmt.Fprintf(w, "  %s  FAULT injected: %s on %s\n", at(f.Start), f.Kind, f.Target)
	}
	o.Pace = func(ctx context.Context, now time.Time) error {
		if wallStart.IsZero() {
			wallStart = time.Now()
		}
		if injectedAt.IsZero() {
			return nil
		}
		due := wallStart.Add(time.Duration(float64(now.Sub(injectedAt)) / speed))
		t := time.NewTimer(time.Until(due))
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Fprintf(w, "seer demo: a simulated shop of 11 services; fault %q", o.Fault)
	if o.Fault != simrun.None {
		tg := o.Target
		if tg == "" {
			tg = simrun.DefaultTarget
		}
		fmt.Fprintf(w, " on %s", tg)
	}
	fmt.Fprintf(w, "\n  backfilling %v of normal history so the detectors learn baselines...\n", simrunBackfill(o))
	began := time.Now()
	o.OnBackfilled = func() {
		fmt.Fprintf(w, "  backfilled in %.1fs; now in real time\n", time.Since(began).Seconds())
		if wait > 0 {
			fmt.Fprintf(w, "  waiting %v before the fault\n", wait)
			t := time.NewTimer(wait)
			defer t.Stop()
			select { // a cancelled run stops at the next step
			case <-t.C:
			case <-ctx.Done():
			}
		}
	}
	res, err := simrun.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	switch {
	case o.Fault == simrun.None && len(res.Incidents) == 0:
		fmt.Fprintln(w, "healthy run: no incident raised.")
	case o.Fault == simrun.None:
		fmt.Fprintf(w, "healthy run, but %d incident(s) raised: false alarms.\n", len(res.Incidents))
	case res.Incident == nil:
		fmt.Fprintln(w, "the fault was not diagnosed within the run.")
	default:
		fmt.Fprintf(w, "detected after %.0fs, diagnosed after %.0fs: root cause %s (%s); the runbook above is a dry run.\n",
			res.DetectedAfter.Seconds(), res.DiagnosedAfter.Seconds(), res.Incident.Top().Entity, res.Incident.Top().Kind)
	}
	if n := len(falseAlarms); n > 0 {
		fmt.Fprintf(w, "%d incident(s) were raised during the backfill, before any fault: false alarms.\n", n)
	}
	if o.DataDir != "" {
		fmt.Fprintf(w, "the knowledge store is in %s\n", o.DataDir)
	}
	_ = os.Stdout.Sync()
	return nil
}

func simrunBackfill(o simrun.Options) time.Duration {
	if o.Backfill > 0 {
		return o.Backfill
	}
	return simrun.DefaultBackfill
}
