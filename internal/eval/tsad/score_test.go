package tsad

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestBest(t *testing.T) {
	f := func(scores []float64, labels []bool, wantF1, wantThr float64) {
		t.Helper()
		got := Best(scores, labels)
		if math.Abs(got.F1-wantF1) > 1e-9 || got.Threshold != wantThr {
			t.Errorf("Best(%v) = %+v, want F1 %.4f at %v", scores, got, wantF1, wantThr)
		}
	}
	yes, no := true, false
	f([]float64{0.9, 0.1, 0.8, 0.2}, []bool{yes, no, yes, no}, 1, 0.8)
	// Ties are flagged together: at 0.5 both rows are alarms.
	f([]float64{0.5, 0.5, 0.1}, []bool{yes, no, no}, 2*0.5*1/(0.5+1), 0.5)
	// Nothing labelled: F1 0 everywhere.
	f([]float64{0.5, 0.1}, []bool{no, no}, 0, math.Inf(1))
	// NaN never alarms.
	f([]float64{math.NaN(), 0.3}, []bool{no, yes}, 1, 0.3)
}

func TestAt(t *testing.T) {
	got := At([]float64{0.9, 0.6, 0.4, 0.1}, []bool{true, false, true, false}, 0.5)
	if got.Precision != 0.5 || got.Recall != 0.5 || got.F1 != 0.5 {
		t.Errorf("At = %+v, want P = R = F1 = 0.5", got)
	}
}

// TestReference checks the scorer against the README's figures for the
// reference scores.
func TestReference(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "tsad")
	if d := os.Getenv("SEER_SHARED"); d != "" {
		dir = filepath.Join(d, "data", "tsad")
	}
	if _, err := os.Stat(filepath.Join(dir, "reference")); err != nil {
		if os.Getenv("SEER_REQUIRE_DATA") == "1" {
			t.Fatalf("tsad data not found at %s (SEER_REQUIRE_DATA=1)", dir)
		}
		t.Skipf("tsad data not found at %s: skipping (set SEER_SHARED to the folder holding data/tsad)", dir)
	}
	ents, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file     string
		asd, smd float64
	}{{"pca.csv.gz", 0.365, 0.603}, {"robust_z.csv.gz", 0.198, 0.540}} {
		sc, err := LoadScores(filepath.Join(dir, "reference", c.file))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Evaluate(ents, sc, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if a, s := rep.Sets["asd"].BestF1, rep.Sets["smd"].BestF1; math.Abs(a-c.asd) > 0.0005 || math.Abs(s-c.smd) > 0.0005 {
			t.Errorf("%s: asd %.4f smd %.4f, want %.3f %.3f", c.file, a, s, c.asd, c.smd)
		}
		if a, s := rep.Sets["asd"].FlagAll, rep.Sets["smd"].FlagAll; math.Abs(a-0.087) > 0.0005 || math.Abs(s-0.118) > 0.0005 {
			t.Errorf("flag_all: asd %.4f smd %.4f, want 0.087 0.118", a, s)
		}
	}
}
