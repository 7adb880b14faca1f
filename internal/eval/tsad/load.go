package tsad

import (
	"bufio"
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

	"github.com/seerops/seer/internal/eval/datafile"
)

// Entity is one entity's rows: train then test, and the test rows' labels.
type Entity struct {
	// Set and Name identify it (asd, omi-1).
	Set, Name string
	// Metrics names the columns after time.
	Metrics []string
	// Train and Test hold one row of Metrics values per timestamp.
	Train, Test [][]float64
	// TestTimes are the unix seconds of the test rows.
	TestTimes []int64
	// Labels marks each test row anomalous (true) or normal.
	Labels []bool
}

// openData opens dir/name, or else dir/name.gz, gunzipped.
func openData(dir, name string) (io.ReadCloser, error) {
	rc, err := datafile.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		p := filepath.Join(dir, name)
		return nil, fmt.Errorf("neither %s nor %s.gz: %w", p, p, err)
	}
	return rc, err
}

// readTable reads a CSV whose first column is time and whose others are
// numbers: the header after time, the times and the rows.
func readTable(dir, name string) (head []string, times []int64, rows [][]float64, err error) {
	rc, err := openData(dir, name)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	if !sc.Scan() {
		return nil, nil, nil, fmt.Errorf("%s: no header: %w", name, sc.Err())
	}
	cols := strings.Split(strings.TrimSpace(sc.Text()), ",")
	if len(cols) < 2 || cols[0] != "time" {
		return nil, nil, nil, fmt.Errorf("%s: header %q: want time,<columns>", name, sc.Text())
	}
	head = cols[1:]
	line := 1
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		fields := strings.Split(s, ",")
		if len(fields) != len(cols) {
			return nil, nil, nil, fmt.Errorf("%s:%d: %d fields, want %d", name, line, len(fields), len(cols))
		}
		t, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: time %q: %w", name, line, fields[0], err)
		}
		row := make([]float64, len(head))
		for i, f := range fields[1:] {
			if row[i], err = strconv.ParseFloat(f, 64); err != nil {
				row[i] = math.NaN()
			}
		}
		times = append(times, t)
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return head, times, rows, nil
}

// LoadEntity reads dir (train.csv, test.csv, labels.csv, each maybe .gz).
func LoadEntity(set, dir string) (Entity, error) {
	e := Entity{Set: set, Name: filepath.Base(dir)}
	head, _, train, err := readTable(dir, "train.csv")
	if err != nil {
		return e, fmt.Errorf("tsad %s/%s: %w", set, e.Name, err)
	}
	head2, times, test, err := readTable(dir, "test.csv")
	if err != nil {
		return e, fmt.Errorf("tsad %s/%s: %w", set, e.Name, err)
	}
	if !slices.Equal(head, head2) {
		return e, fmt.Errorf("tsad %s/%s: train and test have different columns", set, e.Name)
	}
	lh, ltimes, lab, err := readTable(dir, "labels.csv")
	if err != nil {
		return e, fmt.Errorf("tsad %s/%s: %w", set, e.Name, err)
	}
	if len(lh) != 1 || len(lab) != len(test) {
		return e, fmt.Errorf("tsad %s/%s: labels.csv has %d rows of %d columns, want %d rows of time,label", set, e.Name, len(lab), len(lh)+1, len(test))
	}
	e.Labels = make([]bool, len(lab))
	for i, l := range lab {
		if ltimes[i] != times[i] {
			return e, fmt.Errorf("tsad %s/%s: label row %d is at %d, the test row at %d", set, e.Name, i+1, ltimes[i], times[i])
		}
		e.Labels[i] = l[0] != 0
	}
	e.Metrics, e.Train, e.Test, e.TestTimes = head, train, test, times
	return e, nil
}

// Load reads every DIR/<set>/<entity>/ that has a train.csv or
// train.csv.gz, sets and entities in name order.
func Load(dir string) ([]Entity, error) {
	sets, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tsad: reading %s: %w", dir, err)
	}
	var out []Entity
	for _, s := range sets {
		if !s.IsDir() || s.Name() == "reference" {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(dir, s.Name()))
		if err != nil {
			return nil, fmt.Errorf("tsad: %w", err)
		}
		for _, en := range ents {
			p := filepath.Join(dir, s.Name(), en.Name())
			if !en.IsDir() || !hasFile(p, "train.csv") {
				continue
			}
			e, err := LoadEntity(s.Name(), p)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tsad: no <set>/<entity>/train.csv under %s", dir)
	}
	return out, nil
}

func hasFile(dir, name string) bool {
	for _, n := range []string{name, name + ".gz"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// Scores maps set/entity to the score of every test row, in time order.
type Scores map[string]map[string][]float64

// LoadScores reads a scores file, set,entity,time,score (gzipped when the
// name ends .gz), with rows of one entity in time order.
func LoadScores(path string) (Scores, error) {
	r, err := datafile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tsad: opening the scores: %w", err)
	}
	defer r.Close()
	out, err := ParseScores(r)
	if err != nil {
		return nil, fmt.Errorf("tsad: %s: %w", path, err)
	}
	return out, nil
}

// ParseScores reads set,entity,time,score rows after that header; rows of
// one entity must come in time order.
func ParseScores(r io.Reader) (Scores, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "set,entity,time,score" {
		return nil, fmt.Errorf("want the header set,entity,time,score")
	}
	out := Scores{}
	line := 1
	for sc.Scan() {
		line++
		f := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields", line)
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: score %q: %w", line, f[3], err)
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string][]float64{}
		}
		out[f[0]][f[1]] = append(out[f[0]][f[1]], v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// WriteScores writes sc for ents' test rows to path in LoadScores's form.
func WriteScores(path string, ents []Entity, sc Scores) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("tsad: writing the scores: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	fmt.Fprintln(w, "set,entity,time,score")
	for _, e := range ents {
		s := sc[e.Set][e.Name]
		for i, t := range e.TestTimes {
			if i < len(s) {
				fmt.Fprintf(w, "%s,%s,%d,%s\n", e.Set, e.Name, t, strconv.FormatFloat(s[i], 'g', 6, 64))
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("tsad: writing the scores: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tsad: writing the scores: %w", err)
	}
	return nil
}
