package loghub

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/detect/logs"
)

func TestScore(t *testing.T) {
	f := func(truth, pred []string, want Metrics) {
		t.Helper()
		got := Score(truth, pred)
		for _, x := range [][3]any{{"GA", got.GA, want.GA}, {"PA", got.PA, want.PA}, {"FGA", got.FGA, want.FGA}, {"FTA", got.FTA, want.FTA}} {
			if math.Abs(x[1].(float64)-x[2].(float64)) > 1e-9 {
				t.Errorf("Score(%q, %q) %s = %v, want %v", truth, pred, x[0], x[1], x[2])
			}
		}
	}
	truth := []string{"A", "A", "B", "B", "C"}
	// All right.
	f(truth, truth, Metrics{1, 1, 1, 1})
	// B and C merged: only A's group and messages are right; the merged
	// template reads B, so B's two messages are parsed right.
	f(truth, []string{"A", "A", "B", "B", "B"}, Metrics{GA: 0.4, PA: 0.8, FGA: 0.4, FTA: 0.4})
	// Groups right, B's template wrong: 3 of 3 groups, 2 of 3 templates.
	f(truth, []string{"A", "A", "X", "X", "C"}, Metrics{GA: 1, PA: 0.6, FGA: 1, FTA: 2.0 / 3})
	// A split in two: A's messages wrong; 2 of 4 predicted and 2 of 3
	// true groups right.
	f(truth, []string{"A", "Y", "B", "B", "C"}, Metrics{GA: 0.6, PA: 0.8, FGA: 2 * (0.5 * 2.0 / 3) / (0.5 + 2.0/3), FTA: 2 * (0.5 * 2.0 / 3) / (0.5 + 2.0/3)})
	// Normalisation on both sides: an address and port, spaces.
	f([]string{"from <*>:<*> ok", "x  <*>.<*>"}, []string{"from <*> ok", "x <*>"}, Metrics{1, 1, 1, 1})
	f(nil, nil, Metrics{})
}

func TestNormalize(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	f("  a   b ", "a b")
	f("<*>:<*>:<*>", "<*>")
	f("/<*>.<*>.<*>:<*> x", "/<*> x")
	f("<*><*> <*>", "<*> <*>")
	f("blk_<*>", "blk_<*>")
}

func TestReadStructured(t *testing.T) {
	in := "LineId,Content,EventId,EventTemplate\n1,\"a, b 1\",E1,\"a, b <*>\"\n2,c,E2,c\n"
	c, tm, err := ReadStructured(strings.NewReader(in))
	if err != nil || strings.Join(c, "|") != "a, b 1|c" || strings.Join(tm, "|") != "a, b <*>|c" {
		t.Errorf("got %q %q %v", c, tm, err)
	}
	if _, _, err := ReadStructured(strings.NewReader("LineId,Content\n1,x\n")); err == nil {
		t.Error("missing EventTemplate column accepted")
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoData) {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("missing dir accepted")
	}
}

const dataDir = "../../../../shared/data/loghub2k"

// TestLoghub2k scores the default miner on the shared samples, one setting
// for all, against the targets of issue 16.
func TestLoghub2k(t *testing.T) {
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("loghub 2k samples not found at %s (shared/data/loghub2k): %v", dataDir, err)
	}
	sets, err := Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), sets, logs.MinerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range sets {
		m := rep.Datasets[ds.Name]
		t.Logf("%-10s GA %.3f PA %.3f FGA %.3f FTA %.3f", ds.Name, m.GA, m.PA, m.FGA, m.FTA)
	}
	a := rep.Average
	t.Logf("average    GA %.3f PA %.3f FGA %.3f FTA %.3f", a.GA, a.PA, a.FGA, a.FTA)
	if a.GA < 0.98 || a.PA < 0.90 {
		t.Errorf("average GA %.4f PA %.4f, want ≥ 0.98 and ≥ 0.90", a.GA, a.PA)
	}
}

// TestLeaveOneOut scores each sample under the setting chosen on the
// other nine: the figure to expect on logs not seen.
func TestLeaveOneOut(t *testing.T) {
	if testing.Short() {
		t.Skip("mines the samples under every candidate setting")
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("loghub 2k samples not found at %s (shared/data/loghub2k): %v", dataDir, err)
	}
	sets, err := Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := LeaveOneOut(context.Background(), sets, Candidates())
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range sets {
		h := rep.HeldOut[ds.Name]
		t.Logf("%-10s GA %.3f PA %.3f (%s)", ds.Name, h.GA, h.PA, h.Chosen)
	}
	t.Logf("held out   GA %.3f PA %.3f", rep.Average.GA, rep.Average.PA)
	if rep.Average.GA < 0.95 {
		t.Errorf("held-out average GA %.4f, want ≥ 0.95", rep.Average.GA)
	}
}
