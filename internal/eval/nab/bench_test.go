package nab

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/detect/metric"
)

// synthetic is a NAB-sized corpus: 58 files of 6,300 rows, two windows each.
func synthetic() ([]File, map[string][]Window) {
	rng := rand.New(rand.NewSource(1))
	var files []File
	ws := map[string][]Window{}
	for f := range 58 {
		name := fmt.Sprintf("cat/f%02d.csv", f)
		fl := File{Name: name, Times: make([]time.Time, 6300), Scores: make([]float64, 6300)}
		for i := range fl.Times {
			fl.Times[i] = at(i)
			fl.Scores[i] = float64(rng.Intn(10000)) / 10000 // many ties, as real detectors emit
		}
		files = append(files, fl)
		ws[name] = []Window{win(2000, 2600), win(5000, 5600)}
	}
	return files, ws
}

func rows(files []File) (n int) {
	for _, f := range files {
		n += len(f.Scores)
	}
	return n
}

// BenchmarkNewCorpus is the cost of preparing a NAB-sized corpus for scoring.
func BenchmarkNewCorpus(b *testing.B) {
	files, ws := synthetic()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCorpus(files, ws); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows(files)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func syntheticCorpus(b *testing.B) *Corpus {
	c, err := NewCorpus(synthetic())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return c
}

// BenchmarkOptimize is one profile's threshold sweep over a NAB-sized corpus.
func BenchmarkOptimize(b *testing.B) {
	c, p := syntheticCorpus(b), Profiles()[0]
	for b.Loop() {
		c.Optimize(p)
	}
	b.ReportMetric(float64(c.Rows()*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkAt is one profile's score at one threshold, per file.
func BenchmarkAt(b *testing.B) {
	c, p := syntheticCorpus(b), Profiles()[0]
	for b.Loop() {
		c.At(p, 0.5)
	}
}

// BenchmarkParseScores reads a NAB-sized --scores CSV from memory.
func BenchmarkParseScores(b *testing.B) {
	files, _ := synthetic()
	var sb strings.Builder
	sb.WriteString("file,timestamp,anomaly_score\n")
	for _, f := range files {
		for i, t := range f.Times {
			fmt.Fprintf(&sb, "%s,%s,%v\n", f.Name, t.Format(time.DateTime), f.Scores[i])
		}
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseScores(strings.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows(files)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHarness runs the production detector over the shared corpus
// and scores it, as `seer eval nab` does after reading the files; rows/s is
// over the whole corpus with GOMAXPROCS workers, detect-rows/s per core
// with one.
func BenchmarkHarness(b *testing.B) {
	series, ws := loadCorpus(b)
	n := 0
	for _, s := range series {
		n += len(s.Values)
	}
	cfg := metric.DefaultConfig()
	for _, workers := range []int{0, 1} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newDet, err := MetricDetector(cfg, DefaultAlertConfig())
				if err != nil {
					b.Fatal(err)
				}
				files, err := Run(context.Background(), series, newDet, workers)
				if err != nil {
					b.Fatal(err)
				}
				c, err := NewCorpus(files, ws)
				if err != nil {
					b.Fatal(err)
				}
				Evaluate(c, Profiles(), Options{Fixed: cfg.Threshold})
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
