package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/seerops/seer/internal/detect/metric"
	"github.com/seerops/seer/internal/eval/nab"
)

const evalNABUsage = `usage: seer eval nab --data DIR [--json] [--scores FILE.csv[.gz]] [--threshold T] [--optimizer sweep|local] [--per-file] [--cv]

Scores anomaly detection on the Numenta Anomaly Benchmark with NAB's own
metric (windows, probation, scaled sigmoid, the three cost profiles, one
threshold optimised for the corpus, normalised 0 = null, 100 = perfect).
Without --scores it runs seer's production metric detector causally over
every DIR/data/**/*.csv; with --scores it scores the file,timestamp,
anomaly_score rows of FILE (gzip when it ends .gz) for the files named there.
Windows come from DIR/labels/combined_windows.json, profiles from
DIR/config/profiles.json. The fixed-threshold scores use --threshold, by
default the detector's production threshold. With --cv it runs a 2-fold
cross-validation instead: the files of every category alternately in two
halves; on each half the setting (of a small grid around the defaults) and
threshold that score best under the standard profile are chosen, and the
other half is scored with them.
`

// runEvalNAB runs `seer eval nab ...`; args start after "nab".
func runEvalNAB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval nab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalNABUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the NAB corpus: data/, labels/ and config/ below it")
	asJSON := fs.Bool("json", false, "print one JSON object")
	scores := fs.String("scores", "", "score this detector output (file,timestamp,anomaly_score CSV, .gz allowed) instead of running seer")
	cfg := metric.DefaultConfig()
	threshold := fs.Float64("threshold", cfg.Threshold, "the fixed threshold of the fixed_threshold scores")
	optimizer := fs.String("optimizer", "sweep", "how the threshold is optimised: sweep (every threshold, NAB's current sweeper) or local (NAB's old local search, with which Numenta HTM's published scores were made)")
	perFile := fs.Bool("per-file", false, "add each file's standard-profile score")
	workers := fs.Int("workers", 0, "files run at once (0: GOMAXPROCS)")
	cv := fs.Bool("cv", false, "2-fold cross-validation of the setting and threshold, standard profile")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: eval nab: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dir == "" {
		fs.Usage()
		return fmt.Errorf("%w: eval nab: --data DIR is required", errUsage)
	}
	if math.IsNaN(*threshold) || math.IsInf(*threshold, 0) {
		return fmt.Errorf("%w: eval nab: --threshold must be a finite number", errUsage)
	}
	if *optimizer != "sweep" && *optimizer != "local" {
		return fmt.Errorf("%w: eval nab: --optimizer is %q, want sweep or local", errUsage, *optimizer)
	}
	windows, err := nab.LoadWindows(*dir)
	if err != nil {
		return err
	}
	profiles, err := nab.LoadProfiles(*dir)
	if err != nil {
		return err
	}

	if *cv {
		if *scores != "" {
			return fmt.Errorf("%w: eval nab: --cv runs seer's detector; it cannot score --scores", errUsage)
		}
		series, err := nab.LoadData(*dir)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(profiles, func(p nab.Profile) bool { return p.Name == "standard" })
		if i < 0 {
			return fmt.Errorf("eval nab: --cv: no standard profile in %s/config/profiles.json", *dir)
		}
		rep, err := nab.CrossValidate(ctx, series, windows, profiles[i], nab.Candidates(), *threshold, *workers)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(rep)
		}
		return rep.WriteTable(stdout)
	}

	var files []nab.File
	skipped := 0
	if *scores != "" {
		if files, skipped, err = nab.LoadScores(*scores); err != nil {
			return err
		}
	} else {
		series, err := nab.LoadData(*dir)
		if err != nil {
			return err
		}
		for _, s := range series {
			skipped += s.Skipped
		}
		newDetector, err := nab.MetricDetector(cfg, nab.DefaultAlertConfig())
		if err != nil {
			return err
		}
		if files, err = nab.Run(ctx, series, newDetector, *workers); err != nil {
			return err
		}
	}
	corpus, err := nab.NewCorpus(files, windows)
	if err != nil {
		return err
	}
	rep := nab.Evaluate(corpus, profiles, nab.Options{Fixed: *threshold, Local: *optimizer == "local", PerFile: *perFile})
	rep.Skipped = skipped
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	return rep.WriteTable(stdout)
}
