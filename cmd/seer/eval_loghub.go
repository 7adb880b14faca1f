package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/eval/loghub"
)

const evalLoghubUsage = `usage: seer eval loghub --data DIR [--leave-one-out] [--json]

Mines the Content column of every DIR/<DS>/<DS>_2k.log_structured_corrected.csv
in order, online, with the one default miner setting, and scores it against
the EventTemplate column: grouping accuracy (GA), parsing accuracy (PA) and
the F1 of grouping (FGA) and of templates (FTA), as Loghub 2.0 defines them.

With --leave-one-out it also scores each candidate setting (the default,
the default with each heuristic turned off, neighbouring thresholds and
depths) and, for each dataset, the setting chosen on the others alone: the
average of those held-out scores is the figure to expect on logs not seen.
The table of candidates shows what each heuristic is worth on every set.
`

// runEvalLoghub runs `seer eval loghub`; args start after "loghub".
func runEvalLoghub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval loghub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalLoghubUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the loghub 2k directory (one folder per dataset)")
	asJSON := fs.Bool("json", false, "print the scores as JSON")
	loo := fs.Bool("leave-one-out", false, "choose the setting for each dataset on the others and report the held-out scores")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("eval loghub: %w", err)
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("eval loghub: give --data DIR and nothing else")
	}
	sets, err := loghub.Load(*dir)
	if err != nil {
		return fmt.Errorf("eval loghub: %w", err)
	}
	if *loo {
		return printLeaveOneOut(ctx, sets, *asJSON, stdout)
	}
	rep, err := loghub.Run(ctx, sets, logs.DefaultMinerConfig())
	if err != nil {
		return fmt.Errorf("eval loghub: %w", err)
	}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("eval loghub: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	names := make([]string, 0, len(rep.Datasets))
	for n := range rep.Datasets {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "%-12s %6s %6s %6s %6s\n", "dataset", "GA", "PA", "FGA", "FTA")
	row := func(name string, m loghub.Metrics) {
		fmt.Fprintf(stdout, "%-12s %6.3f %6.3f %6.3f %6.3f\n", name, m.GA, m.PA, m.FGA, m.FTA)
	}
	for _, n := range names {
		row(n, rep.Datasets[n])
	}
	row("average", rep.Average)
	return nil
}

// printLeaveOneOut runs and prints `seer eval loghub --leave-one-out`.
func printLeaveOneOut(ctx context.Context, sets []loghub.Dataset, asJSON bool, stdout io.Writer) error {
	rep, err := loghub.LeaveOneOut(ctx, sets, loghub.Candidates())
	if err != nil {
		return fmt.Errorf("eval loghub: %w", err)
	}
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("eval loghub: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	def := rep.Scores[0]
	fmt.Fprintf(stdout, "%-12s %6s %6s   %-22s %6s %6s\n", "dataset", "GA", "PA", "held out: chosen", "GA", "PA")
	for _, ds := range sets {
		m, h := def.Datasets[ds.Name], rep.HeldOut[ds.Name]
		fmt.Fprintf(stdout, "%-12s %6.3f %6.3f   %-22s %6.3f %6.3f\n", ds.Name, m.GA, m.PA, h.Chosen, h.GA, h.PA)
	}
	fmt.Fprintf(stdout, "%-12s %6.3f %6.3f   %-22s %6.3f %6.3f\n\n", "average", def.Average.GA, def.Average.PA, "", rep.Average.GA, rep.Average.PA)
	// Each candidate against the default, set by set: a heuristic earns
	// its place where turning it off loses on sets that did not motivate it.
	fmt.Fprintf(stdout, "GA, PA of each candidate; per set, the change from the default as GA/PA in thousandths\n%-22s %6s %6s", "candidate", "GA", "PA")
	for _, ds := range sets {
		fmt.Fprintf(stdout, " %9.9s", ds.Name)
	}
	fmt.Fprintln(stdout)
	for k, name := range rep.Candidates {
		r := rep.Scores[k]
		fmt.Fprintf(stdout, "%-22s %6.3f %6.3f", name, r.Average.GA, r.Average.PA)
		for _, ds := range sets {
			m, d := r.Datasets[ds.Name], def.Datasets[ds.Name]
			fmt.Fprintf(stdout, " %9s", fmt.Sprintf("%+.0f/%+.0f", 1000*(m.GA-d.GA), 1000*(m.PA-d.PA)))
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
