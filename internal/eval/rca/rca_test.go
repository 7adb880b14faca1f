package rca

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/eval/cases"
)

// writeCase writes a metric-only case in seer's layout: b's cpu jumps at
// the onset, a stays flat.
func writeCase(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC).Unix()
	var b strings.Builder
	b.WriteString("time,entity,name,value\n")
	for i := range int64(600) {
		v := 0.2 + 0.01*float64(i%5)
		if i >= 400 {
			v = 0.95
		}
		fmt.Fprintf(&b, "%d,b,cpu_utilization,%g\n%d,a,cpu_utilization,%g\n", start+i, v, start+i, 0.3+0.01*float64(i%3))
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`{"system":"test","onset":%d,"end":%d,"root_cause":{"entity":"b","kind":"cpu"},"affected":["a"]}`, start+400, start+599)
	if err := os.WriteFile(filepath.Join(dir, "case.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "topology.json"), []byte(`{"edges":[["a","b"]]}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSeerLayout(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, filepath.Join(dir, "c1"))
	cs, layout, err := cases.Load(dir)
	if err != nil || layout != cases.LayoutSeer || len(cs) != 1 {
		t.Fatalf("Load = %d cases, %q, %v", len(cs), layout, err)
	}
	if c := cs[0]; c.Root != "b" || len(c.Samples) != 1200 || len(c.Topology.Edges) != 1 {
		t.Fatalf("case %+v", c.Root)
	}
	rep, err := Run(context.Background(), cs, layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases != 1 || rep.AC1 != 1 || rep.Avg5 != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestScore(t *testing.T) {
	s := Score([]Result{{Rank: 1}, {Rank: 3}, {Rank: 0}, {Rank: 6}})
	if s.AC1 != 0.25 || s.AC3 != 0.5 || s.Avg5 != (0.25+0.25+0.5+0.5+0.5)/5 {
		t.Fatalf("%+v", s)
	}

	// Timing counts the replayed cases only, and a case is on time when
	// its root cause was ranked top within 30 s: of the onset, or of the
	// fault taking effect (a deploy's regression 30 s after its event).
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	s = Score([]Result{
		{Rank: 1, DiagnosedAfter: sec(10)},                       // on time
		{Rank: 2, DiagnosedAfter: sec(10)},                       // fast but wrong
		{Rank: 1, DiagnosedAfter: sec(50), EffectAfter: sec(30)}, // a deploy, 20 s after its effect
		{Rank: 1, DiagnosedAfter: sec(90)},                       // late
		{Rank: 1, DiagnosedAfter: -1},                            // not replayed
	})
	if s.DiagnosedIn30s != 0.25 || s.DiagnosedIn30sEffect != 0.5 || s.DiagnosisMedianS != 50 {
		t.Fatalf("timing %+v", s)
	}
}

// TestPublicSets checks the done-when figures on the public cases: under the
// streaming protocol Sock Shop, under the alerted protocol the real systems
// with traces and canary rollouts (a regression guard; the figures are in
// docs/architecture.md).
func TestPublicSets(t *testing.T) {
	root := "../../../../shared/data/rca"
	if d := os.Getenv("SEER_RCA_DATA"); d != "" {
		root = d
	}
	for _, c := range []struct {
		set      string
		protocol string
		cases    int
		min      float64
		avg5     bool
	}{
		{"sockshop-rcd", Streaming, 50, 0.99, true},
		{"nezha-ob", Alerted, 56, 0.75, false},
		{"changerca", Alerted, 51, 0.7, false},
	} {
		t.Run(c.set, func(t *testing.T) {
			if testing.Short() && c.set != "sockshop-rcd" {
				t.Skip("-short")
			}
			dir := filepath.Join(root, c.set)
			if _, err := os.Stat(dir); err != nil {
				if os.Getenv("SEER_REQUIRE_DATA") != "" {
					t.Fatalf("the RCA data is not at %s: %v", dir, err)
				}
				t.Skipf("the RCA data is not at %s (shared/data/rca; set SEER_RCA_DATA): %v", dir, err)
			}
			cs, layout, err := cases.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), cs, layout, Options{Protocol: c.protocol, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			got, what := rep.AC1, "AC@1"
			if c.avg5 {
				got, what = rep.Avg5, "Avg@5"
			}
			if rep.Cases != c.cases || got < c.min {
				t.Errorf("%s (%s): %d cases, %s %.3f, want %d and >= %.2f", c.set, c.protocol, rep.Cases, what, got, c.cases, c.min)
			}
			if rep.Baseline != nil && rep.Baseline.AC1 >= rep.AC1 {
				t.Errorf("%s: the baseline's AC@1 %.3f is not beaten (%.3f)", c.set, rep.Baseline.AC1, rep.AC1)
			}
		})
	}
}

func BenchmarkDiagnoseMetricCase(b *testing.B) {
	dir := b.TempDir()
	t := &testing.T{}
	writeCase(t, filepath.Join(dir, "c"))
	cs, _, err := cases.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diagnose(context.Background(), cs[0], Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
