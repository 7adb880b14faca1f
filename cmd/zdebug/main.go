package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/eval/cases"
	erca "github.com/seerops/seer/internal/eval/rca"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

func main() {
	cs, _, err := cases.Load(os.Args[1])
	if err != nil {
		panic(err)
	}
	want := os.Args[2]
	for _, c := range cs {
		if !strings.Contains(c.Name, want) {
			continue
		}
		topo := c.Topology
		cfg := infer.Config{}
		cfg.Semantics = erca.Semantics()
		inf := infer.New(cfg, func() signal.Topology { return topo }, nil)
		inf.AddSamples(c.History)
		inf.AddSamples(c.Samples)
		inf.AddSpans(c.Spans)
		inf.AddLogs(c.Logs)
		at := erca.AlertTime(c)
		fmt.Println(c.Name, "root", c.Root, "at", at.Format(time.TimeOnly))
		ser := inf.Window().Range(at.Add(-30*time.Minute), at.Add(5*time.Minute))
		tb, _ := semconv.New(cfg.Semantics)
		type row struct {
			s string
			z float64
		}
		var rows []row
		for i := range ser {
			sd := &ser[i]
			m := tb.Of(sd.Name, sd.Labels)
			z, f, ok := rca.ChangeScore(sd, m, at.Add(-30*time.Minute), at.Add(-time.Minute), at.Add(5*time.Minute))
			n := 0
			for _, p := range sd.Points {
				if !p.Time.Before(at.Add(-time.Minute)) {
					n++
				}
			}
			if ok {
				rows = append(rows, row{fmt.Sprintf("%-24s %-45s %-13s z=%8.1f  %.4g -> %.4g  npost=%d npts=%d", sd.Entity, sd.Name+fmt.Sprint(sd.Labels), m.Quantity, z, f.Before, f.After, n, len(sd.Points)), z})
			}
		}
		slices.SortFunc(rows, func(a, b row) int {
			if a.z > b.z {
				return -1
			}
			return 1
		})
		for _, r := range rows[:min(len(rows), 40)] {
			fmt.Println(r.s)
		}
		for _, cz := range inf.Investigate(at, c.Symptom) {
			fmt.Printf("  %-20s %.3f %s\n", cz.Entity, cz.Score, strings.Join(cz.Evidence, " | "))
		}
	}
}
