package nab

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/eval/datafile"
)

// parseTime reads NAB's timestamps ("2014-04-10 07:15:00", with or without
// fractional seconds) and, for other detectors' output, RFC 3339.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, ok := parseDateTime(s); ok {
		return t, nil
	}
	if t, err := time.Parse(time.DateTime, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: want YYYY-MM-DD hh:mm:ss[.ffffff] or RFC 3339", s)
	}
	return t, nil
}

// parseDateTime is the fast path for "YYYY-MM-DD hh:mm:ss" (NAB's every
// row), which time.Parse reads several times slower.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) != len(time.DateTime) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // e.g. 31 April: let time.Parse reject it
	}
	return t, true
}

// ParseWindows reads NAB's labels/combined_windows.json: for every file, its
// list of [start, end] timestamp pairs.
func ParseWindows(r io.Reader) (map[string][]Window, error) {
	var raw map[string][][]string
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("nab windows: decoding: %w", err)
	}
	out := make(map[string][]Window, len(raw))
	var errs []error
	for name, pairs := range raw {
		ws := make([]Window, 0, len(pairs))
		for i, p := range pairs {
			if len(p) != 2 {
				errs = append(errs, fmt.Errorf("nab windows: %s window %d has %d timestamps, want [start, end]", name, i+1, len(p)))
				continue
			}
			start, err1 := parseTime(p[0])
			end, err2 := parseTime(p[1])
			if err := errors.Join(err1, err2); err != nil {
				errs = append(errs, fmt.Errorf("nab windows: %s window %d: %w", name, i+1, err))
				continue
			}
			if end.Before(start) {
				errs = append(errs, fmt.Errorf("nab windows: %s window %d ends before it starts", name, i+1))
				continue
			}
			ws = append(ws, Window{Start: start, End: end})
		}
		out[name] = ws
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ParseProfiles reads NAB's config/profiles.json, returning the three
// standard profiles first, in NAB's order, then any others by name.
func ParseProfiles(r io.Reader) ([]Profile, error) {
	var raw map[string]struct {
		CostMatrix struct {
			TP *float64 `json:"tpWeight"`
			FP *float64 `json:"fpWeight"`
			FN *float64 `json:"fnWeight"`
		}
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("nab profiles: decoding: %w", err)
	}
	rank := map[string]int{}
	for i, p := range Profiles() {
		rank[p.Name] = i
	}
	var out []Profile
	var errs []error
	for name, v := range raw {
		m := v.CostMatrix
		if m.TP == nil || m.FP == nil || m.FN == nil {
			errs = append(errs, fmt.Errorf("nab profiles: %q lacks one of CostMatrix.tpWeight, fpWeight, fnWeight", name))
			continue
		}
		p := Profile{Name: name, TP: *m.TP, FP: *m.FP, FN: *m.FN}
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, errors.New("nab profiles: none defined")
	}
	slices.SortFunc(out, func(a, b Profile) int {
		ra, oka := rank[a.Name]
		rb, okb := rank[b.Name]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Series is one data file of the corpus.
type Series struct {
	// Name is the path below the corpus's data folder, with forward
	// slashes, as the labels name it.
	Name   string
	Times  []time.Time
	Values []float64
	// Skipped counts rows that could not be read.
	Skipped int
}

// ParseSeries reads a NAB data file: a header, then timestamp,value rows.
// Rows that cannot be read are counted in Skipped.
func ParseSeries(name string, r io.Reader) (Series, error) {
	s := Series{Name: name}
	br := bufio.NewReaderSize(r, 64<<10)
	first := true
	for {
		line, err := br.ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			if first {
				first = false
				if strings.HasPrefix(line, "timestamp") {
					continue
				}
			}
			ts, vs, ok := strings.Cut(line, ",")
			t, err1 := parseTime(ts)
			v, err2 := strconv.ParseFloat(strings.TrimSpace(vs), 64)
			if !ok || err1 != nil || err2 != nil {
				s.Skipped++
			} else {
				s.Times = append(s.Times, t)
				s.Values = append(s.Values, v)
			}
		}
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("nab: reading %s: %w", name, err)
		}
	}
}

// LoadData reads every dir/data/**/*.csv, in the order of their names.
func LoadData(dir string) ([]Series, error) {
	root := filepath.Join(dir, "data")
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".csv") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nab: listing the data files under %s: %w", root, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("nab: no data files under %s: want DIR/data/<category>/<name>.csv", root)
	}
	out := make([]Series, 0, len(paths))
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("nab: opening a data file: %w", err)
		}
		s, err := ParseSeries(filepath.ToSlash(rel), f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadWindows reads dir/labels/combined_windows.json.
func LoadWindows(dir string) (map[string][]Window, error) {
	f, err := os.Open(filepath.Join(dir, "labels", "combined_windows.json"))
	if err != nil {
		return nil, fmt.Errorf("nab: opening the labels: %w", err)
	}
	defer f.Close()
	return ParseWindows(f)
}

// LoadProfiles reads dir/config/profiles.json, or returns Profiles() when
// the corpus has no such file.
func LoadProfiles(dir string) ([]Profile, error) {
	f, err := os.Open(filepath.Join(dir, "config", "profiles.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Profiles(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("nab: opening the profiles: %w", err)
	}
	defer f.Close()
	return ParseProfiles(f)
}

// ParseScores reads a detector's output: a header naming the columns file,
// timestamp and anomaly_score (in any order, among others), then one row per
// data row. Files come out in the order they first appear, their rows in
// the order given. Rows that cannot be read are counted in skipped.
func ParseScores(r io.Reader) (files []File, skipped int, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var fields []string
	line, err := readLine(br)
	if err != nil && (err != io.EOF || line == "") {
		return nil, 0, fmt.Errorf("nab scores: reading the header: %w", err)
	}
	head, ok := splitCSV(line, nil)
	if !ok {
		return nil, 0, fmt.Errorf("nab scores: the header %q is not CSV", line)
	}
	col := map[string]int{"file": -1, "timestamp": -1, "anomaly_score": -1}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if j, ok := col[h]; ok && j < 0 {
			col[h] = i
		}
	}
	fc, tc, sc := col["file"], col["timestamp"], col["anomaly_score"]
	if fc < 0 || tc < 0 || sc < 0 {
		return nil, 0, fmt.Errorf("nab scores: header %q lacks one of the columns file, timestamp, anomaly_score", line)
	}
	need := max(fc, tc, sc)
	index := map[string]int{}
	for err == nil {
		line, err = readLine(br)
		if err != nil && err != io.EOF {
			return nil, skipped, fmt.Errorf("nab scores: reading: %w", err)
		}
		if line == "" {
			continue
		}
		if fields, ok = splitCSV(line, fields[:0]); !ok || len(fields) <= need {
			skipped++
			continue
		}
		t, err1 := parseTime(fields[tc])
		v, err2 := strconv.ParseFloat(strings.TrimSpace(fields[sc]), 64)
		name := strings.TrimSpace(fields[fc])
		if err1 != nil || err2 != nil || name == "" || math.IsNaN(v) {
			skipped++
			continue
		}
		i, ok := index[name]
		if !ok {
			i = len(files)
			index[strings.Clone(name)] = i
			files = append(files, File{Name: strings.Clone(name)})
		}
		files[i].Times = append(files[i].Times, t)
		files[i].Scores = append(files[i].Scores, v)
	}
	return files, skipped, nil
}

// readLine returns the next line, copied, without its end.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A very long line: gather it whole.
		rest, err2 := br.ReadString('\n')
		return strings.TrimRight(string(b)+rest, "\r\n"), err2
	}
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return string(b), err
}

// splitCSV splits one CSV line into fields, appending to dst; quoted
// fields go through encoding/csv, plain ones are split on commas.
func splitCSV(line string, dst []string) ([]string, bool) {
	if strings.IndexByte(line, '"') >= 0 {
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		return append(dst, rec...), err == nil
	}
	for {
		f, rest, more := strings.Cut(line, ",")
		dst = append(dst, f)
		if !more {
			return dst, true
		}
		line = rest
	}
}

// LoadScores reads ParseScores's format from path, gunzipping it when the
// name ends in .gz.
func LoadScores(path string) (files []File, skipped int, err error) {
	r, err := datafile.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("nab: opening the scores: %w", err)
	}
	defer r.Close()
	files, skipped, err = ParseScores(r)
	if err != nil {
		return nil, skipped, fmt.Errorf("%s: %w", path, err)
	}
	return files, skipped, nil
}
