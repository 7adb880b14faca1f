package nab

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	f := func(in string, want time.Time, ok bool) {
		t.Helper()
		got, err := parseTime(in)
		if (err == nil) != ok || (ok && !got.Equal(want)) {
			t.Errorf("parseTime(%q) = %v, %v; want %v ok=%v", in, got, err, want, ok)
		}
	}
	d := time.Date(2014, 4, 10, 7, 15, 0, 0, time.UTC)
	f("2014-04-10 07:15:00", d, true)
	f("2014-04-10 07:15:00.000000", d, true) // the labels' form
	f(" 2014-04-10 07:15:00 ", d, true)
	f("2014-04-10T07:15:00Z", d, true)
	f("2014-04-10T09:15:00+02:00", d, true)
	f("2014-04-10T07:15:00", d, true)
	f("2014-04-31 07:15:00", time.Time{}, false)
	f("2014-13-10 07:15:00", time.Time{}, false)
	f("", time.Time{}, false)
}

func TestParseWindows(t *testing.T) {
	in := `{"a.csv": [["2014-04-10 07:15:00.000000", "2014-04-11 16:45:00.000000"]], "b.csv": []}`
	ws, err := ParseWindows(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Window{Start: time.Date(2014, 4, 10, 7, 15, 0, 0, time.UTC), End: time.Date(2014, 4, 11, 16, 45, 0, 0, time.UTC)}
	if len(ws) != 2 || len(ws["a.csv"]) != 1 || ws["a.csv"][0] != want || ws["b.csv"] == nil {
		t.Errorf("ParseWindows = %v", ws)
	}
	bad := func(in string) {
		t.Helper()
		if _, err := ParseWindows(strings.NewReader(in)); err == nil {
			t.Errorf("ParseWindows(%s): no error", in)
		}
	}
	bad(`{"a": [["2014-04-10 07:15:00"]]}`)
	bad(`{"a": [["2014-04-10 07:15:00", "yesterday"]]}`)
	bad(`{"a": [["2014-04-11 07:15:00", "2014-04-10 07:15:00"]]}`)
	bad(`[1]`)
}

func TestParseProfiles(t *testing.T) {
	in := `{"zeta": {"CostMatrix": {"tpWeight": 1, "fpWeight": 0.5, "fnWeight": 1}},
	        "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0}},
	        "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}`
	ps, err := ParseProfiles(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Profile{{"standard", 1, 0.11, 1}, {"reward_low_FN_rate", 1, 0.11, 2}, {"zeta", 1, 0.5, 1}}
	if len(ps) != len(want) {
		t.Fatalf("ParseProfiles = %v", ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("profile %d = %v, want %v", i, ps[i], want[i])
		}
	}
	for _, bad := range []string{`{}`, `{"x": {"CostMatrix": {"tpWeight": 1}}}`, `{"x": {"CostMatrix": {"tpWeight": 0, "fpWeight": 1, "fnWeight": 1}}}`} {
		if _, err := ParseProfiles(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseProfiles(%s): no error", bad)
		}
	}
}

func TestParseSeries(t *testing.T) {
	in := "timestamp,value\r\n2014-04-01 00:00:00,1.5\r\n2014-04-01 00:05:00,oops\r\n\r\n2014-04-01 00:10:00,-2\n2014-04-01 00:15:00"
	s, err := ParseSeries("x.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "x.csv" || len(s.Values) != 2 || s.Values[0] != 1.5 || s.Values[1] != -2 || s.Skipped != 2 ||
		!s.Times[1].Equal(time.Date(2014, 4, 1, 0, 10, 0, 0, time.UTC)) {
		t.Errorf("ParseSeries = %+v", s)
	}
}

func TestParseScores(t *testing.T) {
	in := "timestamp,anomaly_score,file,label\n" +
		"2014-04-01 00:00:00,0.5,a.csv,0\n" +
		"2014-04-01 00:00:00,0.25,\"b,c.csv\",0\n" +
		"2014-04-01 00:05:00,NaN,a.csv,0\n" + // skipped
		"2014-04-01 00:05:00,1,a.csv\n" +
		"short\n" + // skipped
		"2014-04-01 00:10:00,0.75,\"b,c.csv\"\n"
	files, skipped, err := ParseScores(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 2 || len(files) != 2 || files[0].Name != "a.csv" || files[1].Name != "b,c.csv" ||
		len(files[0].Scores) != 2 || files[0].Scores[1] != 1 || len(files[1].Times) != 2 || files[1].Scores[1] != 0.75 {
		t.Errorf("ParseScores = %+v, skipped %d", files, skipped)
	}
	for _, bad := range []string{"", "file,timestamp\n"} {
		if _, _, err := ParseScores(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseScores(%q): no error", bad)
		}
	}
}

// TestLoad reads a small corpus laid out as NAB's, with gzipped scores.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data/cat/a.csv", []byte("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:01:00,2\n"))
	write("data/README.md", []byte("not data"))
	write("labels/combined_windows.json", []byte(`{"cat/a.csv": [["2014-04-01 00:01:00.000000", "2014-04-01 00:01:00.000000"]]}`))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("file,timestamp,anomaly_score\ncat/a.csv,2014-04-01 00:00:00,0\ncat/a.csv,2014-04-01 00:01:00,1\n"))
	zw.Close()
	write("scores.csv.gz", gz.Bytes())

	series, err := LoadData(dir)
	if err != nil || len(series) != 1 || series[0].Name != "cat/a.csv" || len(series[0].Values) != 2 {
		t.Fatalf("LoadData = %+v, %v", series, err)
	}
	ws, err := LoadWindows(dir)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := LoadProfiles(dir) // no config/: NAB's three
	if err != nil || len(ps) != 3 {
		t.Fatalf("LoadProfiles = %v, %v", ps, err)
	}
	files, skipped, err := LoadScores(filepath.Join(dir, "scores.csv.gz"))
	if err != nil || skipped != 0 {
		t.Fatalf("LoadScores: %v, %d skipped", err, skipped)
	}
	c, err := NewCorpus(files, ws)
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(c, ps, Options{Fixed: 0.5, PerFile: true})
	if r.Files != 1 || r.Profiles["standard"].Score != 100 || r.Fixed["standard"] != 100 || len(r.PerFile) != 1 {
		t.Errorf("Evaluate = %+v", r)
	}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil || !strings.Contains(out.String(), "cat/a.csv") {
		t.Errorf("WriteTable: %v\n%s", err, out.String())
	}
	if _, err := LoadData(t.TempDir()); err == nil {
		t.Error("LoadData of an empty folder: no error")
	}
}

func FuzzParseScores(f *testing.F) {
	f.Add("file,timestamp,anomaly_score\na.csv,2014-04-01 00:00:00,0.5\n")
	f.Add("timestamp,file,anomaly_score\n2014-04-01T00:00:00Z,\"a,b\",1\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		files, _, err := ParseScores(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, fl := range files {
			if len(fl.Times) != len(fl.Scores) || fl.Name == "" {
				t.Fatalf("inconsistent file %+v", fl)
			}
		}
		ws := map[string][]Window{}
		for _, fl := range files {
			ws[fl.Name] = nil
			if len(fl.Times) > 0 {
				ws[fl.Name] = []Window{{fl.Times[0], fl.Times[len(fl.Times)-1]}}
			}
		}
		c, err := NewCorpus(files, ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Profiles() {
			if s := c.Optimize(p); s.Score < 0 || s.Score > 100 {
				t.Fatalf("optimised score %v out of [0, 100]", s.Score)
			}
			c.OptimizeLocal(p)
		}
	})
}

func FuzzParseWindows(f *testing.F) {
	f.Add(`{"a.csv": [["2014-04-10 07:15:00.000000", "2014-04-11 16:45:00.000000"]], "b.csv": []}`)
	f.Fuzz(func(t *testing.T, in string) {
		ws, err := ParseWindows(strings.NewReader(in))
		if err != nil {
			return
		}
		for name, list := range ws {
			for _, w := range list {
				if w.End.Before(w.Start) {
					t.Fatalf("%s: window %v ends before it starts", name, w)
				}
			}
		}
	})
}

func FuzzParseSeries(f *testing.F) {
	f.Add("timestamp,value\n2014-04-01 00:00:00,1.5\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSeries("x", strings.NewReader(in))
		if err != nil || len(s.Times) != len(s.Values) {
			t.Fatalf("ParseSeries: %v, %d times, %d values", err, len(s.Times), len(s.Values))
		}
	})
}

func FuzzParseProfiles(f *testing.F) {
	f.Add(`{"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseProfiles(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
