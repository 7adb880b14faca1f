package cases

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadNothing(t *testing.T) {
	if _, _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
}

func FuzzReadPetMetrics(f *testing.F) {
	f.Add("microservice,A,B\nmetric,latency,availability\nstatistic,Average,Average\nunix_timestamp,,\n1681851720.0,0.5,100\n")
	f.Add("a\nb\n")
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(t.TempDir(), "metrics.csv")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = readPetMetrics(p)
		_, _ = readLong(p)
		_, _ = readWide(p)
	})
}
