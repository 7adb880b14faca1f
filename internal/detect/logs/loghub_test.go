package logs

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const loghubDir = "../../../../shared/data/loghub2k"

var loghubSets = []string{"HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Windows", "HealthApp", "Apache", "OpenSSH"}

// readLoghub returns the Content and EventTemplate columns of one dataset.
func readLoghub(t testing.TB, ds string) (contents, truth []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(loghubDir, ds, ds+"_2k.log_structured_corrected.csv"))
	if err != nil {
		t.Fatalf("opening %s: %v", ds, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s header: %v", ds, err)
	}
	ci, ti := -1, -1
	for i, h := range head {
		switch h {
		case "Content":
			ci = i
		case "EventTemplate":
			ti = i
		}
	}
	if ci < 0 || ti < 0 {
		t.Fatalf("%s: no Content or EventTemplate column", ds)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", ds, err)
		}
		contents = append(contents, rec[ci])
		truth = append(truth, rec[ti])
	}
	return contents, truth
}

// groupingAccuracy is the share of lines whose predicted cluster holds
// exactly the lines of their true cluster.
func groupingAccuracy(pred []uint64, truth []string) float64 {
	predSize := map[uint64]int{}
	trueSize := map[string]int{}
	pair := map[uint64]map[string]int{}
	for i, p := range pred {
		predSize[p]++
		trueSize[truth[i]]++
		if pair[p] == nil {
			pair[p] = map[string]int{}
		}
		pair[p][truth[i]]++
	}
	correct := 0
	for p, ts := range pair {
		if len(ts) != 1 {
			continue
		}
		for tt, n := range ts {
			if trueSize[tt] == n && predSize[p] == n {
				correct += n
			}
		}
	}
	return float64(correct) / float64(len(pred))
}

// TestLoghubGroupingAccuracy mines each loghub 2k sample with one setting
// (the defaults) and checks the average grouping accuracy.
func TestLoghubGroupingAccuracy(t *testing.T) {
	if _, err := os.Stat(loghubDir); err != nil {
		t.Skipf("loghub 2k samples not found at %s (shared/data/loghub2k): %v", loghubDir, err)
	}
	sum := 0.0
	for _, ds := range loghubSets {
		contents, truth := readLoghub(t, ds)
		m := NewMiner(MinerConfig{})
		pred := make([]uint64, len(contents))
		for i, c := range contents {
			pred[i] = m.Add(c).ID
		}
		// Templates merged since resolve to the one they joined.
		for i, id := range pred {
			if tm, ok := m.Template(id); ok {
				pred[i] = tm.ID
			}
		}
		ga := groupingAccuracy(pred, truth)
		sum += ga
		t.Logf("%-10s GA %.3f templates %d (truth %d)", ds, ga, m.Len(), len(uniq(truth)))
	}
	avg := sum / float64(len(loghubSets))
	t.Logf("average GA %.4f", avg)
	if avg < 0.98 {
		t.Errorf("average GA %.4f, want ≥ 0.98", avg)
	}
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}
