package metric_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/seerops/seer/internal/detect/metric"
	"github.com/seerops/seer/internal/eval/tsad"
)

// tsadDir is the multivariate benchmark in the shared data, when present.
func tsadDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "tsad")
	if d := os.Getenv("SEER_TSAD"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "smd")); err != nil {
		if os.Getenv("SEER_REQUIRE_DATA") == "1" {
			t.Fatalf("tsad data not found at %s (SEER_REQUIRE_DATA=1)", dir)
		}
		t.Skipf("tsad data not found at %s: skipping (set SEER_TSAD=DIR)", dir)
	}
	return dir
}

func runTSAD(t *testing.T, ents []tsad.Entity, cfg metric.EntityConfig) tsad.Report {
	t.Helper()
	sc, err := tsad.Run(context.Background(), ents, func(n int) (tsad.Detector, error) {
		e, err := metric.NewEntity(cfg, n)
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

type entityScore struct{ e *metric.Entity }

type entityRaw struct{ e *metric.Entity }

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
		cfg := metric.DefaultEntityConfig()
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
