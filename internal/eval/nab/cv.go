package nab

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/seerops/seer/internal/detect/metric"
)

// Candidate is one setting a cross-validation may choose.
type Candidate struct {
	Name   string        `json:"name"`
	Metric metric.Config `json:"-"`
	Alert  AlertConfig   `json:"-"`
}

// Candidates is the grid the cross-validation chooses from: the defaults,
// and each of the alerting's habits that were fitted to the 31 files (the
// repeat discount, the record's habit, the weak-season discount, the
// escalation rule) on or off, 16 settings in all. The threshold is chosen
// with the setting.
func Candidates() []Candidate {
	var out []Candidate
	for mask := range 16 {
		a := DefaultAlertConfig()
		var parts []string
		if mask&1 != 0 {
			a.Repeat, parts = 0, append(parts, "no-repeat")
		}
		if mask&2 != 0 {
			a.Habit, parts = 0, append(parts, "no-habit")
		}
		if mask&4 != 0 {
			a.SeasonWeakRepeat, parts = a.SeasonRepeat, append(parts, "no-weak-season")
		}
		if mask&8 != 0 {
			a.Escalate, parts = 1, append(parts, "no-escalate")
		}
		name := "default"
		if len(parts) > 0 {
			name = strings.Join(parts, ",")
		}
		out = append(out, Candidate{Name: name, Metric: metric.DefaultConfig(), Alert: a})
	}
	return out
}

// Split puts the files alternately into two halves, in name order (which
// groups them by category, so that every category is split in two): the
// folds of the cross-validation.
func Split(names []string) (halves [2][]string) {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	for i, n := range sorted {
		halves[i%2] = append(halves[i%2], n)
	}
	return halves
}

// Fold is one half held out: the setting and threshold chosen on the other
// half, and what they score on this one.
type Fold struct {
	Files []string `json:"files"`
	// Chosen names the setting chosen on the other half; Fit is its
	// optimised score there, at Threshold.
	Chosen    string  `json:"chosen"`
	Threshold float64 `json:"threshold"`
	Fit       float64 `json:"fit_on_other_half"`
	// Held is the score on this half at Threshold; Fixed at the
	// production threshold; Optimum the best this half could score with
	// that setting at any threshold (not a fair figure, a yardstick).
	Held    Score   `json:"held_out"`
	Fixed   float64 `json:"held_out_at_production_threshold"`
	Optimum float64 `json:"held_out_optimum"`
}

// CVReport is the outcome of `seer eval nab --cv`: a 2-fold
// cross-validation on the corpus under one profile.
type CVReport struct {
	Profile string  `json:"profile"`
	Folds   [2]Fold `json:"folds"`
	// Score is the two held-out halves scored together: their raw scores
	// summed and normalised over the whole corpus. It is the figure that
	// counts. Fixed is the same at the production threshold FixedAt.
	Score   float64 `json:"score"`
	Fixed   float64 `json:"score_at_production_threshold"`
	FixedAt float64 `json:"production_threshold"`
	// Candidates is how many settings were chosen from.
	Candidates int `json:"candidates"`
}

// CrossValidate runs every candidate over series once (files are scored
// independently), then for each half chooses the candidate and threshold
// that score best on the other half under p, and scores the half with
// them. fixed is the production threshold.
func CrossValidate(ctx context.Context, series []Series, windows map[string][]Window, p Profile, cands []Candidate, fixed float64, workers int) (CVReport, error) {
	rep := CVReport{Profile: p.Name, FixedAt: fixed, Candidates: len(cands)}
	if len(cands) == 0 {
		return rep, fmt.Errorf("nab: cross-validation needs at least one candidate")
	}
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	halves := Split(names)
	// corpora[c][h] is candidate c's scores on half h.
	corpora := make([][2]*Corpus, len(cands))
	for ci, c := range cands {
		newDet, err := MetricDetector(c.Metric, c.Alert)
		if err != nil {
			return rep, fmt.Errorf("nab: candidate %s: %w", c.Name, err)
		}
		files, err := Run(ctx, series, newDet, workers)
		if err != nil {
			return rep, err
		}
		for h := range 2 {
			var part []File
			for _, f := range files {
				if slices.Contains(halves[h], f.Name) {
					part = append(part, f)
				}
			}
			if corpora[ci][h], err = NewCorpus(part, windows); err != nil {
				return rep, err
			}
		}
	}
	var raw, rawFixed, null, perfect float64
	for h := range 2 {
		other := 1 - h
		best, bestC := Score{Score: -1e300}, 0
		for ci := range cands {
			if s := corpora[ci][other].Optimize(p); s.Score > best.Score {
				best, bestC = s, ci
			}
		}
		held := corpora[bestC][h]
		f := Fold{Files: halves[h], Chosen: cands[bestC].Name, Threshold: best.Threshold, Fit: best.Score,
			Held: held.At(p, best.Threshold), Fixed: held.At(p, fixed).Score, Optimum: held.Optimize(p).Score}
		rep.Folds[h] = f
		raw += f.Held.Raw
		rawFixed += held.At(p, fixed).Raw
		null += held.null(p)
		perfect += held.perfect(p)
	}
	if perfect != null {
		rep.Score = 100 * (raw - null) / (perfect - null)
		rep.Fixed = 100 * (rawFixed - null) / (perfect - null)
	}
	return rep, nil
}

// WriteTable prints r for a reader.
func (r CVReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAB 2-fold cross-validation, %s profile: setting and threshold chosen on one half (of %d settings), scored on the other\n\n", r.Profile, r.Candidates)
	fmt.Fprintf(tw, "held-out half\tfiles\tchosen on the other half\tthreshold\tfit there\theld-out\tTP\tFN\tFP\t@%.4g\toptimum\t\n", r.FixedAt)
	for h, f := range r.Folds {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.4f\t%.2f\t%.2f\t%d\t%d\t%d\t%.2f\t%.2f\t\n", h+1, len(f.Files), f.Chosen, f.Threshold, f.Fit, f.Held.Score, f.Held.TP, f.Held.FN, f.Held.FP, f.Fixed, f.Optimum)
	}
	fmt.Fprintf(tw, "\nboth held-out halves together\t%.2f\t(at the fixed threshold %.4g: %.2f)\n", r.Score, r.FixedAt, r.Fixed)
	return tw.Flush()
}
