package tsad

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadPlainAndGzip(t *testing.T) {
	dir := t.TempDir()
	ent := filepath.Join(dir, "x", "e1")
	if err := os.MkdirAll(ent, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string, gz bool) {
		t.Helper()
		p := filepath.Join(ent, name)
		if !gz {
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		f, err := os.Create(p + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(body))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write("train.csv", "time,m01,m02\n1,0.1,0.2\n2,0.1,0.3\n", true)
	write("test.csv", "time,m01,m02\n3,0.5,0.2\n4,0.1,0.2\n", false)
	write("labels.csv", "time,label\n3,1\n4,0\n", false)
	ents, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("%d entities, want 1", len(ents))
	}
	e := ents[0]
	if e.Set != "x" || e.Name != "e1" || len(e.Train) != 2 || len(e.Test) != 2 || !e.Labels[0] || e.Labels[1] || e.Test[0][0] != 0.5 {
		t.Fatalf("loaded %+v", e)
	}
	write("labels.csv", "time,label\n3,1\n", false)
	if _, err := Load(dir); err == nil {
		t.Error("labels short of the test rows: no error")
	}
}

func FuzzParseScores(f *testing.F) {
	f.Add("set,entity,time,score\nasd,omi-1,1,0.5\nasd,omi-1,2,NaN\n")
	f.Add("set,entity,time,score\n,,,\n")
	f.Add("nope\n")
	f.Fuzz(func(t *testing.T, in string) {
		sc, err := ParseScores(strings.NewReader(in))
		if err != nil && sc != nil {
			t.Fatalf("an error with scores: %v", err)
		}
	})
}
