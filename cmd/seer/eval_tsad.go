package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/seerops/seer/internal/detect/metric"
	"github.com/seerops/seer/internal/eval/tsad"
)

const evalTSADUsage = `usage: seer eval tsad --data DIR [--json] [--scores FILE.csv[.gz]] [--per-entity] [--threshold T]

Scores anomaly detection on multivariate server metrics with point labels
(DIR/<set>/<entity>/{train,test,labels}.csv, each maybe .gz: ASD and SMD).
Without --scores it runs seer's entity detector causally over every entity,
train rows then test rows, one row at a time, with one configuration; with
--scores it scores the set,entity,time,score rows of FILE instead. Scoring is
point-wise without point adjustment: per entity the best F1 over every
threshold and the F1 at the production threshold (or --threshold),
averaged per set.
`

// runEvalTSAD runs `seer eval tsad ...`; args start after "tsad".
func runEvalTSAD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval tsad", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalTSADUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the tsad directory: <set>/<entity>/ below it")
	asJSON := fs.Bool("json", false, "print one JSON object")
	scores := fs.String("scores", "", "score this output (set,entity,time,score CSV, .gz allowed) instead of running seer")
	perEntity := fs.Bool("per-entity", false, "print each entity's figures in the table")
	workers := fs.Int("workers", 0, "entities run at once (0: GOMAXPROCS)")
	write := fs.String("write-scores", "", "also write every test row's score to this file (set,entity,time,score CSV)")
	cfg := metric.DefaultEntityConfig()
	threshold := fs.Float64("threshold", cfg.Threshold, "the fixed threshold of the f1_at_threshold figures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: eval tsad: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dir == "" {
		fs.Usage()
		return fmt.Errorf("%w: eval tsad: --data DIR is required", errUsage)
	}
	if math.IsNaN(*threshold) || math.IsInf(*threshold, 0) {
		return fmt.Errorf("%w: eval tsad: --threshold must be a finite number", errUsage)
	}
	ents, err := tsad.Load(*dir)
	if err != nil {
		return err
	}
	var sc tsad.Scores
	if *scores != "" {
		if sc, err = tsad.LoadScores(*scores); err != nil {
			return err
		}
	} else {
		newDetector := func(n int) (tsad.Detector, error) {
			e, err := metric.NewEntity(cfg, n)
			if err != nil {
				return nil, err
			}
			return entityScorer{e}, nil
		}
		if sc, err = tsad.Run(ctx, ents, newDetector, *workers); err != nil {
			return err
		}
	}
	if *write != "" {
		if err := tsad.WriteScores(*write, ents, sc); err != nil {
			return err
		}
	}
	rep, err := tsad.Evaluate(ents, sc, *threshold)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	return rep.WriteTable(stdout, *perEntity)
}

// entityScorer feeds tsad an entity detector's production score.
type entityScorer struct{ e *metric.Entity }

func (s entityScorer) Observe(row []float64) float64 { return s.e.Observe(row).Score }
