package nab

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)

func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// file builds a file of len(scores) one-minute rows.
func file(name string, scores ...float64) File {
	f := File{Name: name, Scores: scores}
	for i := range scores {
		f.Times = append(f.Times, at(i))
	}
	return f
}

func win(l, r int) Window { return Window{Start: at(l), End: at(r)} }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func profile(t *testing.T, name string) Profile {
	t.Helper()
	for _, p := range Profiles() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no profile %q", name)
	return Profile{}
}

func TestScaledSigmoid(t *testing.T) {
	f := func(x, want float64) {
		t.Helper()
		if got := scaledSigmoid(x); !near(got, want, 1e-9) {
			t.Errorf("scaledSigmoid(%v) = %v, want %v", x, got, want)
		}
	}
	// 2/(1+e^(5x)) - 1, worked out by hand.
	f(-1, 0.9866142981514305) // a window's first row: maxTP
	f(0, 0)
	f(1, -0.9866142981514305)
	f(3, -0.9999993881955)
	f(3.0001, -1) // far after a window: the full FP weight
}

func TestProbation(t *testing.T) {
	f := func(n, want int) {
		t.Helper()
		if got := probation(n); got != want {
			t.Errorf("probation(%d) = %d, want %d", n, got, want)
		}
	}
	f(0, 0)
	f(10, 1)     // floor(1.5)
	f(4032, 604) // floor(604.8)
	f(5000, 750)
	f(22695, 750) // capped at 15% of 5000 rows
}

// The hand-worked case: ten rows, row 0 probationary, one window on rows
// 4..7 (width 4). Detections at row 2 (before any window: -FP), rows 5 and 6
// (in the window at positions -3/4 and -1/2), row 8 (1/3 of the width less
// one after it). Scaled sigmoids by hand, maxTP = 0.986614:
//
//	row 5: (2/(1+e^-3.75)-1)/maxTP = 0.966989   row 6: (2/(1+e^-2.5)-1)/maxTP = 0.859793
//	row 8: 2/(1+e^(5/3))-1 = -0.682262         row 9: 2/(1+e^(10/3))-1 = -0.931110
func TestHandCase(t *testing.T) {
	c, err := NewCorpus(
		[]File{file("a.csv", 0.99, 0, 0.6, 0, 0, 0.8, 0.9, 0, 0.7, 0)},
		map[string][]Window{"a.csv": {win(4, 7)}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rows() != 10 || c.Windows() != 1 || c.Files() != 1 {
		t.Fatalf("rows %d windows %d files %d", c.Rows(), c.Windows(), c.Files())
	}
	f := func(p string, thr, raw float64, tp, fn, fp int) {
		t.Helper()
		pr := profile(t, p)
		got := c.At(pr, thr)
		norm := 100 * (raw + pr.FN) / (pr.TP + pr.FN) // null -FN, perfect TP
		if !near(got.Raw, raw, 1e-5) || !near(got.Score, norm, 1e-3) || got.TP != tp || got.FN != fn || got.FP != fp {
			t.Errorf("%s at %v = %+v, want raw %.5f score %.4f TP %d FN %d FP %d", p, thr, got, raw, norm, tp, fn, fp)
		}
	}
	f("standard", 1.0, -1, 0, 1, 0)                     // only the probationary row scores this high
	f("standard", 0.9, 0.859793, 1, 0, 0)               // row 6, late in the window
	f("standard", 0.8, 0.966989, 1, 0, 0)               // row 5 is earlier: only it counts
	f("standard", 0.7, 0.966989-0.11*0.682262, 1, 0, 1) // row 8 just after the window
	f("standard", 0.6, 0.966989-0.11*0.682262-0.11, 1, 0, 2)
	// Everything: row 4 earns the full TP; rows 1, 2, 3 cost 0.11 each, rows 8 and 9 less.
	f("standard", 0, 1-3*0.11-0.11*(0.682262+0.931110), 1, 0, 5)
	f("reward_low_FP_rate", 0.6, 0.966989-0.22*0.682262-0.22, 1, 0, 2)
	f("reward_low_FN_rate", 1.0, -2, 0, 1, 0)

	opt := func(p string, thr, score float64) {
		t.Helper()
		got := c.Optimize(profile(t, p))
		if got.Threshold != thr || !near(got.Score, score, 1e-3) {
			t.Errorf("Optimize(%s) = %+v, want threshold %v score %.4f", p, got, thr, score)
		}
	}
	opt("standard", 0.8, 98.3495)           // 100*(0.966989+1)/2
	opt("reward_low_FP_rate", 0.8, 98.3495) // no FP at 0.8
	opt("reward_low_FN_rate", 0.8, 98.8996) // 100*(0.966989+2)/3

	// NAB's old local search starts at 0.5, where every threshold within
	// 0.1 detects the same rows (raw 0.966989-0.11*0.682262-0.11), so it
	// never leaves that plateau.
	if got := c.OptimizeLocal(profile(t, "standard")); !near(got.Threshold, 0.5, 1e-6) || !near(got.Raw, 0.781940, 1e-5) {
		t.Errorf("OptimizeLocal = %+v, want threshold 0.5 raw 0.781940", got)
	}
}

func TestOptimizeTiesAndNothing(t *testing.T) {
	std := Profiles()[0]
	f := func(name string, files []File, ws map[string][]Window, thr, score float64) {
		t.Helper()
		c, err := NewCorpus(files, ws)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Optimize(std)
		if got.Threshold != thr || !near(got.Score, score, 1e-6) {
			t.Errorf("%s: Optimize = %+v, want threshold %v score %v", name, got, thr, score)
		}
	}
	// Rows 3 and 4 open the window; both thresholds detect at the window's
	// first row, so the higher one wins the tie.
	f("tie", []File{file("a", 0, 0, 0, 0.7, 0.5, 0, 0, 0, 0, 0)}, map[string][]Window{"a": {win(3, 6)}}, 0.7, 100)
	// Only false positives: detecting nothing is best, at NAB's 1.1.
	// At 0.9: 85 scored rows of a cost 0.11 each; at 0.5 b's window adds 2
	// but its 7 other scored rows cost 0.77 at most.
	noisy := file("a", make([]float64, 100)...)
	for i := range noisy.Scores {
		noisy.Scores[i] = 0.9
	}
	f("nothing", []File{noisy, file("b", 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)},
		map[string][]Window{"a": {}, "b": {win(5, 6)}}, 1.1, 0)
	// No windows at all: nothing to normalise against.
	f("no windows", []File{file("a", 0, 1, 0)}, map[string][]Window{"a": {}}, 1.1, 0)
	// NaN scores are never detections.
	f("nan", []File{file("a", math.NaN(), math.NaN(), math.NaN(), math.NaN())}, map[string][]Window{"a": {win(1, 3)}}, 1.1, 0)
}

// Two files, and a window that lies in the probationary period: the perfect
// detector is still credited with it (NAB counts every labelled window), the
// null detector is not charged for it (no scored row can find it).
func TestNormalisation(t *testing.T) {
	// 20 rows: probation floor(3.0000000000000004) = 3 rows; window on rows 0..1.
	a := file("a", make([]float64, 20)...)
	a.Scores[10] = 1 // 8.5 window-widths less one after the window: -FP
	// 10 rows, probation 1; window on rows 2..4, detected at its first row.
	b := file("b", 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)
	c, err := NewCorpus([]File{a, b}, map[string][]Window{"a": {win(0, 1)}, "b": {win(2, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	std := Profiles()[0]
	got := c.At(std, 1)
	// raw = 1 - 0.11; null = -1 (only b's window is scored); perfect = 2.
	if want := 100 * (1 - 0.11 + 1) / (2 + 1); !near(got.Score, want, 1e-9) || got.TP != 1 || got.FN != 0 || got.FP != 1 {
		t.Errorf("At(1) = %+v, want score %v TP 1 FN 0 FP 1", got, want)
	}
	per := c.PerFile(std, 1)
	if len(per) != 2 || per[0].Name != "a" || !near(per[0].Raw, -0.11, 1e-9) || per[0].FP != 1 ||
		per[1].Name != "b" || !near(per[1].Raw, 1, 1e-9) || per[1].TP != 1 || per[1].Windows != 1 {
		t.Errorf("PerFile = %+v", per)
	}
}

// A window whose ends fall between rows covers the rows inside it, and a
// one-row window does not divide by zero after it.
func TestWindowEdges(t *testing.T) {
	std := Profiles()[0]
	f := func(name string, w Window, scores []float64, raw float64) {
		t.Helper()
		c, err := NewCorpus([]File{file("a", scores...)}, map[string][]Window{"a": {w}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.At(std, 1); !near(got.Raw, raw, 1e-6) {
			t.Errorf("%s: raw %v, want %v", name, got.Raw, raw)
		}
	}
	between := Window{Start: at(3).Add(30 * time.Second), End: at(5).Add(30 * time.Second)}
	f("between rows", between, []float64{0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, 1) // row 4 is the first row
	// One-row window on row 4; a detection two rows later is 2 rows after it:
	// 0.11 * (2/(1+e^10)-1) = -0.109990.
	f("one row", win(4, 4), []float64{0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, -1-0.109990)
}

func TestNewCorpusErrors(t *testing.T) {
	f := func(name string, files []File) {
		t.Helper()
		if _, err := NewCorpus(files, map[string][]Window{"a": {}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	f("unlabelled", []File{file("b", 0)})
	f("twice", []File{file("a", 0), file("a", 0)})
	f("length", []File{{Name: "a", Times: []time.Time{t0}}})
}

func TestProfileValidate(t *testing.T) {
	for _, p := range Profiles() {
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
	if err := (Profile{TP: 0, FP: -1, FN: math.NaN()}).Validate(); err == nil {
		t.Error("bad profile passed")
	}
}
