package metric

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/seerops/seer/internal/eval/tsad"
)

// tsadDir is the multivariate benchmark in the shared data, when present.
func tsadDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "tsad")
	if d := os.Getenv("SEER_SHARED"); d != "" {
		dir = filepath.Join(d, "data", "tsad")
	}
	if _, err := os.Stat(filepath.Join(dir, "smd")); err != nil {
		if os.Getenv("SEER_REQUIRE_DATA") == "1" {
			t.Fatalf("tsad data not found at %s (SEER_REQUIRE_DATA=1)", dir)
		}
		t.Skipf("tsad data not found at %s: skipping (set SEER_SHARED to the folder holding data/tsad)", dir)
	}
	return dir
}

func runTSAD(t *testing.T, ents []tsad.Entity, cfg EntityConfig) tsad.Report {
	t.Helper()
	sc, err := tsad.Run(context.Background(), ents, func(n int) (tsad.Detector, error) {
		e, err := NewEntity(cfg, n)
		if err != nil {
			return nil, err
		}
		if os.Getenv("SEER_ENTITY_RAW") == "1" {
			return entityRaw{e}, nil
		}
		return entityScore{e}, nil
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tsad.Evaluate(ents, sc, cfg.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type entityScore struct{ e *Entity }

// TestTSAD holds the entity detector to its figures on the development
// half of the multivariate benchmark (point-wise, no point adjustment):
// above the README's causal PCA baseline on ASD, near it on SMD, and the
// production threshold near each set's optimum.
func TestTSAD(t *testing.T) {
	if raceOn || testing.Short() {
		t.Skip("a 47,000-row run per entity: not under -race or -short")
	}
	ents, err := tsad.Load(tsadDir(t))
	if err != nil {
		t.Fatal(err)
	}
	rep := runTSAD(t, ents, DefaultEntityConfig())
	f := func(set string, best, atThr float64) {
		t.Helper()
		s := rep.Sets[set]
		t.Logf("%s: best F1 %.3f (P %.3f R %.3f), at the threshold %.3f, flag_all %.3f", set, s.BestF1, s.Precision, s.Recall, s.F1AtThreshold, s.FlagAll)
		if s.BestF1 < best || s.F1AtThreshold < atThr {
			t.Errorf("%s: best F1 %.3f, at the threshold %.3f; want at least %.3f and %.3f", set, s.BestF1, s.F1AtThreshold, best, atThr)
		}
	}
	f("asd", 0.47, 0.39) // pca 0.365, flag_all 0.087
	f("smd", 0.58, 0.34) // pca 0.603, flag_all 0.118
}

type entityRaw struct{ e *Entity }

func (s entityRaw) Observe(row []float64) float64 { return s.e.Observe(row).Raw }

func (s entityScore) Observe(row []float64) float64 { return s.e.Observe(row).Score }

// TestEntityExplore runs configurations given as JSON lines in
// SEER_ENTITY_EXPLORE (each overriding the defaults) and prints their
// figures; it is for tuning by hand, not a check.
func TestEntityExplore(t *testing.T) {
	spec := os.Getenv("SEER_ENTITY_EXPLORE")
	if spec == "" {
		t.Skip("set SEER_ENTITY_EXPLORE to a JSON array of configurations")
	}
	ents, err := tsad.Load(tsadDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(spec), &raws); err != nil {
		t.Fatal(err)
	}
	for _, r := range raws {
		cfg := DefaultEntityConfig()
		if err := json.Unmarshal(r, &cfg); err != nil {
			t.Fatal(err)
		}
		rep := runTSAD(t, ents, cfg)
		a, s := rep.Sets["asd"], rep.Sets["smd"]
		if os.Getenv("SEER_ENTITY_VERBOSE") == "1" {
			for name, er := range rep.PerEntity {
				t.Logf("  %s %.3f (P %.3f R %.3f)", name, er.Best.F1, er.Best.Precision, er.Best.Recall)
			}
		}
		t.Logf("%s: asd %.3f (@thr %.3f) smd %.3f (@thr %.3f)", r, a.BestF1, a.F1AtThreshold, s.BestF1, s.F1AtThreshold)
	}
}
