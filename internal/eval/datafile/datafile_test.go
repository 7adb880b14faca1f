package datafile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("zipped"))
	zw.Close()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("plain.csv", []byte("plain"))
	write("z.csv.gz", b.Bytes())
	write("bad.csv.gz", []byte("not gzip"))
	for name, want := range map[string]string{"plain.csv": "plain", "z.csv": "zipped", "z.csv.gz": "zipped"} {
		rc, err := Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != want {
			t.Errorf("%s: read %q, want %q", name, got, want)
		}
	}
	if _, err := Open(filepath.Join(dir, "none.csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "bad.csv")); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a corrupt NAME.gz: %v", err)
	}
}
