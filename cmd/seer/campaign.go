package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/testbed"
)

// testbedCampaign runs `seer testbed campaign`: a testbed is started, the
// faults injected one after another, and seer judged on each.
func testbedCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return campaign(ctx, args, nil, stdout, stderr)
}

// campaign is testbedCampaign with extra environment for the children
// (the tests run the test binary as seer).
func campaign(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	bin, err := seerBinary()
	if err != nil {
		return err
	}
	cfg := testbed.DefaultConfig("", bin)
	cfg.Env = env
	cc := testbed.ShortCampaign()
	fs := newFlagSet("testbed campaign", stderr)
	dir := testbedFlags(fs, &cfg)
	faults := fs.String("faults", "ALL", "the fault kinds, comma separated, or ALL: "+strings.Join(chaos.Kinds(), ","))
	fs.IntVar(&cc.Repeat, "repeat", cc.Repeat, "how many times each kind is injected")
	fs.Uint64Var(&cc.Seed, "seed", cc.Seed, "picks the targets")
	fs.DurationVar(&cc.WarmUp, "warm-up", cc.WarmUp, "healthy time before the first fault")
	fs.DurationVar(&cc.Gap, "gap", cc.Gap, "healthy time before each fault (incidents opened in it are false)")
	fs.DurationVar(&cc.For, "for", cc.For, "how long a fault lasts at most")
	asJSON := fs.Bool("json", false, `print {"rows":[...],"false_incidents":N,...}`)
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	recur := fs.String("recur", "", "KIND:TARGET: instead of a campaign, the fault twice, the first diagnosis confirmed, "+
		"timing the second's match by its negative fingerprint")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *faults != "ALL" {
		cc.Faults = strings.Split(*faults, ",")
		for _, k := range cc.Faults {
			if len(chaos.Targets(k, nil, nil)) == 0 && !contains(chaos.Kinds(), k) {
				return fmt.Errorf("%w: --faults: %q is not one of %v", errUsage, k, chaos.Kinds())
			}
		}
	}
	if cfg.Dir, err = absDir(*dir); err != nil {
		return err
	}
	if !*quiet {
		cc.Progress = stderr
	}
	tb, err := testbed.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if *recur != "" {
		kind, target, _ := strings.Cut(*recur, ":")
		r, err := tb.Recur(ctx, kind, target, cc)
		if cerr := tb.Close(); err == nil {
			err = cerr
		}
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return err
	}
	rep, err := tb.Campaign(ctx, cc)
	if cerr := tb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	printCampaign(stdout, rep)
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func fsecs(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *p)
}

func printCampaign(w io.Writer, rep testbed.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tTARGET\tDETECT s\tROOT CAUSE s\tRECOVERED s\tRIGHT\tSTEP\tTOP CAUSES\tRUNBOOK RUNS")
	for _, r := range rep.Rows {
		rec := fsecs(r.RecoveredS)
		if r.Runbook == "" {
			rec = "n/a"
		}
		step := "-"
		if r.Step != "" {
			step = fmt.Sprintf("%s (%v)", r.Step, r.StepRight)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", r.Fault, r.Target, fsecs(r.DetectedS), fsecs(r.RootCauseS), rec, r.Right,
			step, strings.Join(r.Causes, "; "), strings.Join(r.Acted, " "))
	}
	tw.Flush()
	s := rep.Summary
	fmt.Fprintf(w, "\n%d faults: detected %d, right root cause first %d, recovered %d of %d with a runbook; "+
		"median detect %s s, root cause %s s, recovered %s s (1/5/10 rule: 60 / 300 / 600 s; met by %d)\n"+
		"execution fingerprints: a deviating step for %d faults, the target's step first for %d\n"+
		"false incidents in %.0f s of healthy gaps: %d\n",
		s.Faults, s.Detected, s.Right, s.Recovered, s.Recoverable, fsecs(s.MedianDetect), fsecs(s.MedianRoot), fsecs(s.MedianRecover),
		s.Within1510, s.Fingerprinted, s.Localised, rep.HealthyS, rep.FalseIncidents)
	for _, f := range rep.FalseDetail {
		fmt.Fprintln(w, "  false:", f)
	}
}
