package nab

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// NAB's probationary period: the first ProbationFraction of every file, but
// at most ProbationFraction*5000 rows, is not scored.
const (
	ProbationFraction = 0.15
	probationCapRows  = 5000
)

// noDetection is the threshold reported when detecting nothing scores best;
// NAB starts its sweep at 1.1, above every score a detector may emit.
const noDetection = 1.1

// Profile is one of NAB's application profiles: the weights of its cost
// matrix (the TN weight plays no part in the score).
type Profile struct {
	// Name is the profile's key in profiles.json.
	Name string
	// TP is the reward of a detection at a window's first row.
	TP float64
	// FP is the cost of a detection far from any window.
	FP float64
	// FN is the cost of a window without a detection.
	FN float64
}

// Profiles returns NAB's three application profiles, as in its config/profiles.json.
func Profiles() []Profile {
	return []Profile{
		{Name: "standard", TP: 1, FP: 0.11, FN: 1},
		{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1},
		{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2},
	}
}

// Validate reports every weight that is out of range.
func (p Profile) Validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("nab profile: Name is empty"))
	}
	check := func(field string, v float64, ok bool, want string) {
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("nab profile %q: %s weight is %v, want %s", p.Name, field, v, want))
		}
	}
	check("TP", p.TP, p.TP > 0, "> 0")
	check("FP", p.FP, p.FP >= 0, ">= 0")
	check("FN", p.FN, p.FN >= 0, ">= 0")
	return errors.Join(errs...)
}

// Window is one labelled anomaly window, both ends included.
type Window struct {
	Start, End time.Time
}

// File is one scored series: a detector's anomaly score for every row, in
// the file's order.
type File struct {
	// Name is the file as the labels name it, e.g. realKnownCause/nyc_taxi.csv.
	Name   string
	Times  []time.Time
	Scores []float64
}

// Corpus holds a detector's output on a set of files, prepared so that any
// profile and threshold can be scored without another pass over the files.
// It is immutable and safe for concurrent use.
type Corpus struct {
	files   []fileInfo
	rows    []row   // scored (non-probationary) rows, by anomaly score descending
	winFile []int32 // file of each scored window
	windows int     // every labelled window: what the perfect detector finds
	total   int     // every row, probationary included
}

type fileInfo struct {
	name    string
	rows    int
	windows int // labelled
	scored  int // with at least one scored row
}

// row is one scored row. u is the unweighted scaled sigmoid: in (0, maxTP]
// inside a window, in [-1, 0) outside.
type row struct {
	score float64
	u     float64
	win   int32 // index into Corpus.winFile, -1 outside every window
	file  int32
}

// scaledSigmoid is NAB's weighting of a detection at relative position x:
// x in [-1, 0) inside a window (-1 at its first row), x > 0 after it.
func scaledSigmoid(x float64) float64 {
	if x > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*x)) - 1
}

// maxTP is the unweighted score of a detection at a window's first row; TP
// weights are divided by it so that such a detection earns exactly the TP weight.
var maxTP = scaledSigmoid(-1)

// probation is the number of leading rows of an n-row file that are not scored.
func probation(n int) int {
	return int(math.Min(math.Floor(ProbationFraction*float64(n)), ProbationFraction*probationCapRows))
}

// NewCorpus prepares files for scoring against windows, which are keyed by
// file name (as in NAB's labels/combined_windows.json). Every file must have
// an entry in windows (an empty list for a file without anomalies), its
// scores must match its timestamps one to one. Rows are taken in the order
// given, as NAB does, even where time steps back (one NAB file repeats an hour).
func NewCorpus(files []File, windows map[string][]Window) (*Corpus, error) {
	c := &Corpus{}
	seen := make(map[string]bool, len(files))
	for fi, f := range files {
		ws, ok := windows[f.Name]
		if !ok {
			return nil, fmt.Errorf("nab: no labels for file %q: name it as in combined_windows.json, e.g. realKnownCause/nyc_taxi.csv", f.Name)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("nab: file %q given twice", f.Name)
		}
		seen[f.Name] = true
		if len(f.Times) != len(f.Scores) {
			return nil, fmt.Errorf("nab: file %q has %d timestamps but %d scores", f.Name, len(f.Times), len(f.Scores))
		}
		c.add(int32(fi), f, ws)
	}
	// Ties need no stable order: the sweep takes a tie as one step.
	slices.SortFunc(c.rows, func(a, b row) int { return cmp.Compare(b.score, a.score) })
	return c, nil
}

// span is a window as row indices, both ends included.
type span struct{ left, right int }

// locate finds w's rows: from the row stamped w.Start to the first one after
// it stamped w.End, as NAB does; when the labels do not name rows exactly,
// from the first row at or after w.Start to the last before w.End passes.
func locate(ts []time.Time, w Window) (span, bool) {
	l := slices.IndexFunc(ts, func(t time.Time) bool { return t.Equal(w.Start) })
	if l < 0 {
		if l = slices.IndexFunc(ts, func(t time.Time) bool { return t.After(w.Start) }); l < 0 {
			return span{}, false
		}
	}
	r := l - 1
	for i := l; i < len(ts) && !ts[i].After(w.End); i++ {
		r = i
		if ts[i].Equal(w.End) {
			break
		}
	}
	return span{l, r}, r >= l
}

// add appends one file's scored rows, walking it as NAB's sweeper does: a
// window is entered at its first row and left after its last, and rows after
// a window are weighted by their distance from the last window left.
func (c *Corpus) add(fi int32, f File, ws []Window) {
	n := len(f.Times)
	info := fileInfo{name: f.Name, rows: n, windows: len(ws)}
	c.windows += len(ws)
	c.total += n

	spans := make([]span, 0, len(ws))
	for _, w := range ws {
		if s, ok := locate(f.Times, w); ok {
			spans = append(spans, s)
		}
	}
	slices.SortStableFunc(spans, func(a, b span) int { return cmp.Compare(a.left, b.left) })

	prob := probation(n)
	cur, next := -1, 0
	prevRight, prevWidth := -1, 0
	wid := make([]int32, len(spans)) // global window index, once it has a scored row
	for i := range wid {
		wid[i] = -1
	}
	for i := range n {
		for next < len(spans) && spans[next].left == i {
			cur, next = next, next+1
		}
		var u float64
		if cur >= 0 {
			s := spans[cur]
			width := float64(s.right - s.left + 1)
			u = scaledSigmoid(-float64(s.right-i+1) / width)
		} else if prevRight < 0 {
			u = -1
		} else {
			// NAB divides by the width less one; a one-row window would
			// divide by zero there, so its distance is counted in rows.
			u = scaledSigmoid(float64(i-prevRight) / float64(max(prevWidth-1, 1)))
		}
		if i >= prob {
			r := row{score: f.Scores[i], u: u, win: -1, file: fi}
			if math.IsNaN(r.score) {
				r.score = math.Inf(-1) // never detected
			}
			if cur >= 0 {
				if wid[cur] < 0 {
					wid[cur] = int32(len(c.winFile))
					c.winFile = append(c.winFile, fi)
					info.scored++
				}
				r.win = wid[cur]
			}
			c.rows = append(c.rows, r)
		}
		if cur >= 0 && i == spans[cur].right {
			prevRight, prevWidth = spans[cur].right, spans[cur].right-spans[cur].left+1
			cur = -1
		}
	}
	c.files = append(c.files, info)
}

// Files is the number of files in the corpus.
func (c *Corpus) Files() int { return len(c.files) }

// Rows is the number of rows in the corpus, probationary ones included.
func (c *Corpus) Rows() int { return c.total }

// Windows is the number of labelled windows in the corpus.
func (c *Corpus) Windows() int { return c.windows }

// Score is a profile's result at one threshold.
type Score struct {
	// Score is normalised: 0 for the null detector, 100 for the perfect one.
	Score float64 `json:"score"`
	// Threshold is the anomaly score at or above which a row is a detection.
	Threshold float64 `json:"threshold"`
	// Raw is the summed weighted score before normalisation.
	Raw float64 `json:"raw"`
	// TP and FN count windows with and without a detection; FP counts
	// detections outside windows (probationary rows excluded).
	TP int `json:"tp"`
	FN int `json:"fn"`
	FP int `json:"fp"`
}

// weigh returns a row's weighted score under p.
func weigh(p Profile, r row) float64 {
	if r.win >= 0 {
		return r.u * p.TP / maxTP
	}
	return r.u * p.FP
}

// null is the raw score of the detector that detects nothing, perfect the
// raw score of the one that detects every window at its first row.
func (c *Corpus) null(p Profile) float64    { return 0 - p.FN*float64(len(c.winFile)) } // +0, not -0, without windows
func (c *Corpus) perfect(p Profile) float64 { return p.TP * float64(c.windows) }

// normalise maps raw onto NAB's 0 (null) to 100 (perfect) scale.
func (c *Corpus) normalise(p Profile, raw float64) float64 {
	null, perfect := c.null(p), c.perfect(p)
	if perfect == null {
		return 0 // no windows: nothing to normalise against
	}
	return 100 * (raw - null) / (perfect - null)
}

// top is the threshold that detects nothing.
func (c *Corpus) top() float64 {
	if len(c.rows) == 0 || c.rows[0].score < noDetection {
		return noDetection
	}
	return math.Nextafter(c.rows[0].score, math.Inf(1))
}

// step is the corpus score at one threshold of the sweep.
type step struct {
	threshold, raw float64
	tp, fp         int
}

// sweep returns the score at every distinct anomaly score, highest first,
// after the threshold that detects nothing.
func (c *Corpus) sweep(p Profile) []step {
	bestW := make([]float64, len(c.winFile))
	hit := make([]bool, len(c.winFile))
	raw, tp, fp := c.null(p), 0, 0
	out := []step{{threshold: c.top(), raw: raw}}
	for i := 0; i < len(c.rows); {
		t := c.rows[i].score
		if math.IsInf(t, -1) {
			break
		}
		for ; i < len(c.rows) && c.rows[i].score == t; i++ {
			r := c.rows[i]
			s := weigh(p, r)
			if r.win < 0 {
				raw += s
				fp++
				continue
			}
			if !hit[r.win] {
				hit[r.win], bestW[r.win] = true, s
				raw += s + p.FN
				tp++
			} else if s > bestW[r.win] {
				raw += s - bestW[r.win]
				bestW[r.win] = s
			}
		}
		out = append(out, step{threshold: t, raw: raw, tp: tp, fp: fp})
	}
	return out
}

func (c *Corpus) score(p Profile, s step, threshold float64) Score {
	return Score{Score: c.normalise(p, s.raw), Threshold: threshold, Raw: s.raw,
		TP: s.tp, FN: len(c.winFile) - s.tp, FP: s.fp}
}

// Optimize returns the best score of p over every threshold, as NAB's
// sweeper does: one threshold for the whole corpus; of equal scores the
// highest threshold wins.
func (c *Corpus) Optimize(p Profile) Score {
	steps := c.sweep(p)
	best := steps[0]
	for _, s := range steps[1:] {
		if s.raw > best.raw {
			best = s
		}
	}
	return c.score(p, best, best.threshold)
}

// At returns p's score when every row scoring at or above threshold is a detection.
func (c *Corpus) At(p Profile, threshold float64) Score {
	per := c.PerFile(p, threshold)
	s := Score{Threshold: threshold}
	for _, f := range per {
		s.Raw += f.Raw
		s.TP += f.TP
		s.FN += f.FN
		s.FP += f.FP
	}
	s.Score = c.normalise(p, s.Raw)
	return s
}

// FileScore is one file's share of a corpus score.
type FileScore struct {
	Name string `json:"file"`
	Rows int    `json:"rows"`
	// Windows is the number of labelled windows of the file.
	Windows int `json:"windows"`
	// Raw is the file's summed weighted score; its share of the corpus
	// score is Raw minus the null detector's -FN weight per window.
	Raw float64 `json:"raw"`
	// TP, FN and FP count as in Score.
	TP int `json:"tp"`
	FN int `json:"fn"`
	FP int `json:"fp"`
}

// PerFile returns p's score of every file at threshold, in the corpus order.
func (c *Corpus) PerFile(p Profile, threshold float64) []FileScore {
	out := make([]FileScore, len(c.files))
	for i, f := range c.files {
		out[i] = FileScore{Name: f.name, Rows: f.rows, Windows: f.windows, Raw: 0 - p.FN*float64(f.scored), FN: f.scored}
	}
	bestW := make([]float64, len(c.winFile))
	hit := make([]bool, len(c.winFile))
	for _, r := range c.rows {
		if !(r.score >= threshold) {
			break // rows are sorted by score
		}
		s := weigh(p, r)
		f := &out[r.file]
		if r.win < 0 {
			f.Raw += s
			f.FP++
			continue
		}
		if !hit[r.win] {
			hit[r.win], bestW[r.win] = true, s
			f.Raw += s + p.FN
			f.TP++
			f.FN--
		} else if s > bestW[r.win] {
			f.Raw += s - bestW[r.win]
			bestW[r.win] = s
		}
	}
	return out
}

// OptimizeLocal returns p's score at the threshold found by the local search
// NAB used before its exhaustive sweep (nab/optimizer.py's twiddle: start at
// 0.5, step 0.1, double a step that helps, halve one that does not, within
// [0, 1], until the step is below 1e-7). It may stop at a local optimum; it
// is kept because some published scores (Numenta HTM's) were made with it.
func (c *Corpus) OptimizeLocal(p Profile) Score {
	const lo, hi, tol = 0.0, 1.0, 1e-7
	steps := c.sweep(p)
	// at is the step in force at threshold x: the lowest threshold >= x.
	at := func(x float64) step {
		i := sort.Search(len(steps), func(i int) bool { return steps[i].threshold < x })
		return steps[max(i-1, 0)]
	}
	x, delta := 0.5, 0.1
	best := at(x).raw
	for delta > tol {
		if x+delta > hi {
			delta = math.Abs(hi-x) / 2
		}
		x += delta
		if s := at(x).raw; s > best {
			best, delta = s, delta*2
			continue
		}
		if x-delta < lo {
			delta = math.Abs(lo-x) / 2
		}
		x -= 2 * delta
		if s := at(x).raw; s > best {
			best, delta = s, delta*2
			continue
		}
		x += delta
		delta /= 2
	}
	return c.score(p, at(x), x)
}
