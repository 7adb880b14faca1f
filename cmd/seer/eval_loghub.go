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

const evalLoghubUsage = `usage: seer eval loghub --data DIR [--json]

Mines the Content column of every DIR/<DS>/<DS>_2k.log_structured_corrected.csv
in order, online, with the one default miner setting, and scores it against
the EventTemplate column: grouping accuracy (GA), parsing accuracy (PA) and
the F1 of grouping (FGA) and of templates (FTA), as Loghub 2.0 defines them.
`

// runEvalLoghub runs `seer eval loghub`; args start after "loghub".
func runEvalLoghub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval loghub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalLoghubUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the loghub 2k directory (one folder per dataset)")
	asJSON := fs.Bool("json", false, "print the scores as JSON")
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
