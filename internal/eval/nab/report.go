package nab

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Report is the outcome of `seer eval nab`: per profile the score at the
// corpus-optimised threshold, and the score at one fixed threshold.
type Report struct {
	// Files, Rows and Windows size the corpus scored (rows include the
	// probationary ones, windows every labelled one).
	Files   int `json:"files"`
	Rows    int `json:"rows"`
	Windows int `json:"windows"`
	// Skipped counts input rows that could not be read.
	Skipped int `json:"skipped_rows"`
	// Profiles holds each profile's best score over every threshold.
	Profiles map[string]Score `json:"profiles"`
	// Optimizer names how Profiles' thresholds were chosen: "sweep" (every
	// threshold, NAB's current method) or "local" (NAB's old local search).
	Optimizer string `json:"optimizer"`
	// Fixed holds each profile's normalised score at FixedAt.
	Fixed map[string]float64 `json:"fixed_threshold"`
	// FixedAt is the threshold of Fixed: the detector's own in production.
	FixedAt float64 `json:"fixed_threshold_value"`
	// FixedDetail is Fixed with its counts.
	FixedDetail map[string]Score `json:"fixed_threshold_detail"`
	// PerFile is each file's standard-profile score at the optimised and
	// fixed thresholds, when asked for.
	PerFile []FileReport `json:"per_file,omitempty"`

	order []string // profile names in the order given
}

// FileReport is one file's standard-profile share of the scores.
type FileReport struct {
	// Optimized is at the profile's optimised threshold, Fixed at the fixed one.
	Optimized FileScore `json:"optimized"`
	Fixed     FileScore `json:"fixed"`
}

// Options chooses what Evaluate reports.
type Options struct {
	// Fixed is the threshold of the fixed-threshold scores.
	Fixed float64
	// Local optimises the threshold with NAB's old local search
	// (OptimizeLocal) instead of the exhaustive sweep.
	Local bool
	// PerFile adds the first profile's per-file breakdown.
	PerFile bool
}

// Evaluate scores c under every profile, at the optimised threshold and at
// the fixed one.
func Evaluate(c *Corpus, profiles []Profile, o Options) Report {
	r := Report{
		Files: c.Files(), Rows: c.Rows(), Windows: c.Windows(), FixedAt: o.Fixed, Optimizer: "sweep",
		Profiles: map[string]Score{}, Fixed: map[string]float64{}, FixedDetail: map[string]Score{},
	}
	if o.Local {
		r.Optimizer = "local"
	}
	for _, p := range profiles {
		r.order = append(r.order, p.Name)
		if o.Local {
			r.Profiles[p.Name] = c.OptimizeLocal(p)
		} else {
			r.Profiles[p.Name] = c.Optimize(p)
		}
		s := c.At(p, o.Fixed)
		r.Fixed[p.Name], r.FixedDetail[p.Name] = s.Score, s
	}
	if o.PerFile && len(profiles) > 0 {
		p := profiles[0]
		opt := c.PerFile(p, r.Profiles[p.Name].Threshold)
		fix := c.PerFile(p, o.Fixed)
		for i := range opt {
			r.PerFile = append(r.PerFile, FileReport{Optimized: opt[i], Fixed: fix[i]})
		}
	}
	return r
}

// WriteTable prints r for a reader.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAB: %d files, %d rows, %d windows, %d rows skipped\n\n", r.Files, r.Rows, r.Windows, r.Skipped)
	fmt.Fprintf(tw, "profile\toptimised (%s)\tthreshold\tTP\tFN\tFP\t\tfixed@%.4g\tTP\tFN\tFP\t\n", r.Optimizer, r.FixedAt)
	for _, name := range r.order {
		o, f := r.Profiles[name], r.FixedDetail[name]
		fmt.Fprintf(tw, "%s\t%.2f\t%.4f\t%d\t%d\t%d\t\t%.2f\t%d\t%d\t%d\t\n",
			name, o.Score, o.Threshold, o.TP, o.FN, o.FP, f.Score, f.TP, f.FN, f.FP)
	}
	if len(r.PerFile) > 0 {
		fmt.Fprintf(tw, "\n%s per file\trows\twindows\traw\tTP\tFN\tFP\t\traw@%.4g\tTP\tFN\tFP\t\n", r.order[0], r.FixedAt)
		for _, f := range r.PerFile {
			o, x := f.Optimized, f.Fixed
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%d\t%d\t%d\t\t%.3f\t%d\t%d\t%d\t\n",
				o.Name, o.Rows, o.Windows, o.Raw, o.TP, o.FN, o.FP, x.Raw, x.TP, x.FN, x.FP)
		}
	}
	return tw.Flush()
}
