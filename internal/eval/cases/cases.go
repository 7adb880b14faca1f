package cases

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/eval/datafile"
	"github.com/seerops/seer/internal/signal"
)

// The layouts Load recognises.
const (
	LayoutSeer     = "seer"
	LayoutSockShop = "sockshop-rcd"
	LayoutPetShop  = "petshop"
)

// Case is one incident with its signals and its ground truth.
type Case struct {
	// Name is the case's path below the data directory.
	Name string
	// Set groups cases for reporting (PetShop's scenario, a fault kind).
	Set string
	// Split is "test" for scored cases, "train" for cases that may be
	// learned from.
	Split string
	Onset time.Time
	// Effect is when the fault began to act on the system, when the layout
	// says (seer's does; see sim.Truth.Effect): a deploy's regression
	// begins after its change event. Zero otherwise.
	Effect time.Time
	End    time.Time
	// Alert is when an operator would open an investigation (an alert
	// fired), when the layout says; the alerted protocol starts there, and
	// at the onset when it is zero. It is a time only, never the culprit.
	Alert time.Time
	// Root is the ground-truth root-cause entity; Kind its fault kind.
	Root string
	Kind string
	// History is normal operation replayed before the case (PetShop's
	// noissue), already moved in time to end just before the case.
	History  []signal.Sample
	Samples  []signal.Sample
	Logs     []signal.LogRecord
	Spans    []signal.Span
	Events   []signal.Event
	Topology signal.Topology
	// Symptom and SymptomMetric are where and in which metric the trouble
	// was seen (the alarm that starts the analysis), when the set says.
	Symptom       string
	SymptomMetric string
}

// entity makes a component name a seer entity: "/" separates an instance
// from its service in seer, so it is replaced in names that are whole
// components ("PetAdoptionStatusUpdater/prod", URLs).
func entity(name string) string { return strings.ReplaceAll(name, "/", "|") }

// Load reads every case under dir in the layout it detects, sorted by name.
func Load(dir string) ([]Case, string, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, "", fmt.Errorf("reading cases: %w", err)
	}
	var layout string
	var graphs, normals, seers []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch d.Name() {
		case "graph.csv":
			graphs = append(graphs, filepath.Dir(p))
		case "normal.csv":
			normals = append(normals, filepath.Dir(p))
		case "case.json":
			seers = append(seers, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("walking %s: %w", dir, err)
	}
	var out []Case
	switch {
	case len(seers) > 0:
		layout = LayoutSeer
		for _, d := range seers {
			c, err := loadSeer(dir, d)
			if err != nil {
				return nil, layout, err
			}
			out = append(out, c)
		}
	case len(graphs) > 0:
		layout = LayoutPetShop
		for _, d := range graphs {
			cs, err := loadPetShop(dir, d)
			if err != nil {
				return nil, layout, err
			}
			out = append(out, cs...)
		}
	case len(normals) > 0:
		layout = LayoutSockShop
		for _, d := range normals {
			c, err := loadSockShop(dir, d)
			if err != nil {
				return nil, layout, err
			}
			out = append(out, c)
		}
	default:
		return nil, "", fmt.Errorf("no cases under %s: want case.json (seer), graph.csv (PetShop) or normal.csv (Sock Shop RCD)", dir)
	}
	slices.SortFunc(out, func(a, b Case) int { return cmp.Compare(a.Name, b.Name) })
	return out, layout, nil
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// loadSockShop reads an RCD case: <svc>-<fault>/<n>/{normal,anomalous}.csv,
// columns time,<svc>_<metric>; the onset is anomalous.csv's first row.
func loadSockShop(root, d string) (Case, error) {
	label := filepath.Base(filepath.Dir(d))
	svc, fault, _ := strings.Cut(label, "-")
	if i := strings.LastIndexByte(label, '-'); i > 0 {
		svc, fault = label[:i], label[i+1:]
	}
	c := Case{Name: rel(root, d), Set: fault, Split: "test", Root: svc, Kind: fault}
	normal, err := readWide(filepath.Join(d, "normal.csv"))
	if err != nil {
		return c, err
	}
	anom, err := readWide(filepath.Join(d, "anomalous.csv"))
	if err != nil {
		return c, err
	}
	if len(anom) == 0 {
		return c, fmt.Errorf("%s: anomalous.csv has no rows", c.Name)
	}
	// normal.csv was recorded apart (days before, in the public set): it
	// stands for the minutes before the injection.
	c.Onset = anom[0].Time
	c.History = shiftBefore(normal, c.Onset)
	c.Samples = anom
	c.End = anom[len(anom)-1].Time
	return c, nil
}

// openCSV opens a CSV file (or, when it is absent, its gzip-compressed
// NAME.gz) for reading row by row; rows may differ in width.
func openCSV(path string) (*csv.Reader, io.Closer, error) {
	rd, err := datafile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return r, rd, nil
}

// readWide reads time,<entity>_<metric>,... rows into samples.
func readWide(path string) ([]signal.Sample, error) {
	r, f, err := openCSV(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	type col struct{ entity, name string }
	cols := make([]col, len(head))
	for j, h := range head {
		e, n, ok := strings.Cut(h, "_")
		if !ok {
			e, n = h, "value"
		}
		cols[j] = col{e, n}
	}
	var out []signal.Sample
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		ts, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			continue
		}
		t := unix(ts)
		for j := 1; j < len(rec) && j < len(cols); j++ {
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil || math.IsNaN(v) {
				continue
			}
			out = append(out, signal.Sample{Time: t, Entity: cols[j].entity, Name: cols[j].name, Value: v})
		}
	}
	return out, nil
}

func unix(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// loadPetShop reads one PetShop scenario: graph.csv, noissue/ as history
// and every test/issue_N (scored) and train/issue_N (learnable).
func loadPetShop(root, d string) ([]Case, error) {
	topo, err := readAdjacency(filepath.Join(d, "graph.csv"))
	if err != nil {
		return nil, err
	}
	normal, err := readPetMetrics(filepath.Join(d, "noissue", "metrics.csv"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	set := filepath.Base(d)
	var out []Case
	for _, split := range []string{"test", "train"} {
		issues, _ := filepath.Glob(filepath.Join(d, split, "issue_*"))
		for _, is := range issues {
			var tg struct {
				Target struct {
					Node      string  `json:"node"`
					Metric    string  `json:"metric"`
					Timestamp float64 `json:"timestamp"`
				} `json:"target"`
				RootCause struct {
					Node string `json:"node"`
				} `json:"root_cause"`
			}
			b, err := os.ReadFile(filepath.Join(is, "target.json"))
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &tg); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(is, "target.json"), err)
			}
			samples, err := readPetMetrics(filepath.Join(is, "metrics.csv"))
			if err != nil {
				return nil, err
			}
			if len(samples) == 0 {
				continue
			}
			c := Case{Name: rel(root, is), Set: set, Split: split, Root: entity(tg.RootCause.Node), Onset: unix(tg.Target.Timestamp),
				Symptom: entity(tg.Target.Node), SymptomMetric: tg.Target.Metric,
				Samples: samples, Topology: topo, End: samples[len(samples)-1].Time}
			c.History = shiftBefore(normal, samples[0].Time)
			out = append(out, c)
		}
	}
	if normal == nil {
		// Without a recording of normal operation, a case's history is
		// what a seer watching the system all along would have seen
		// before it: every earlier issue's samples, faults and all. The
		// cases share one time-ordered slice of them; each case's history
		// is its prefix before the case's first sample (capped, so that
		// nobody appends into a neighbour's).
		var all []signal.Sample
		for _, c := range out {
			all = append(all, c.Samples...)
		}
		slices.SortStableFunc(all, func(a, b signal.Sample) int { return a.Time.Compare(b.Time) })
		for i := range out {
			k, _ := slices.BinarySearchFunc(all, out[i].Samples[0].Time, func(s signal.Sample, t time.Time) int { return s.Time.Compare(t) })
			out[i].History = all[:k:k]
		}
	}
	return out, nil
}

// shiftBefore moves the history in time so that it ends one step before t,
// keeping its spacing: normal operation recorded on another day stands for
// the hours before the case.
func shiftBefore(h []signal.Sample, t time.Time) []signal.Sample {
	if len(h) == 0 {
		return nil
	}
	first, last := h[0].Time, h[0].Time
	for _, s := range h {
		if s.Time.Before(first) {
			first = s.Time
		}
		if s.Time.After(last) {
			last = s.Time
		}
	}
	// The step is the smallest positive gap between times.
	step := time.Duration(0)
	prev := first
	times := map[time.Time]bool{}
	for _, s := range h {
		times[s.Time] = true
	}
	ts := make([]time.Time, 0, len(times))
	for x := range times {
		ts = append(ts, x)
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	for _, x := range ts[1:] {
		if g := x.Sub(prev); g > 0 && (step == 0 || g < step) {
			step = g
		}
		prev = x
	}
	if step == 0 {
		step = time.Minute
	}
	d := t.Add(-step).Sub(last)
	out := make([]signal.Sample, len(h))
	for i, s := range h {
		s.Time = s.Time.Add(d)
		out[i] = s
	}
	return out
}

// readAdjacency reads a square matrix whose row calls column where 1.
func readAdjacency(path string) (signal.Topology, error) {
	var t signal.Topology
	f, err := os.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		return t, fmt.Errorf("%s: %w", path, cmp.Or(err, errors.New("empty")))
	}
	names := recs[0][1:]
	for _, n := range names {
		t.Services = append(t.Services, entity(n))
	}
	for _, row := range recs[1:] {
		for j, v := range row[1:] {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 1 && j < len(names) {
				t.Edges = append(t.Edges, signal.Edge{Caller: entity(row[0]), Callee: entity(names[j])})
			}
		}
	}
	return t, nil
}

// readPetMetrics reads a PetShop metrics.csv: header rows component,
// metric, statistic and a unix_timestamp row, then one row per time.
func readPetMetrics(path string) ([]signal.Sample, error) {
	r, f, err := openCSV(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [3][]string
	for k := range head {
		if head[k], err = r.Read(); err != nil {
			return nil, fmt.Errorf("%s: reading header row %d: %w", path, k+1, err)
		}
		head[k] = slices.Clone(head[k]) // the reader reuses its records
	}
	var out []signal.Sample
	for line := 4; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		ts, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			continue // the unix_timestamp label row
		}
		t := unix(ts)
		for j := 1; j < len(rec) && j < len(head[0]) && j < len(head[1]) && j < len(head[2]); j++ {
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil || math.IsNaN(v) {
				continue
			}
			out = append(out, signal.Sample{Time: t, Entity: entity(head[0][j]), Name: head[1][j] + "_" + strings.ToLower(head[2][j]), Value: v})
		}
	}
	return out, nil
}

// loadSeer reads a case in seer's own layout.
func loadSeer(root, d string) (Case, error) {
	c := Case{Name: rel(root, d), Split: "test"}
	var meta struct {
		System    string  `json:"system"`
		Onset     float64 `json:"onset"`
		Alert     float64 `json:"alert"`
		Effect    float64 `json:"effect"`
		End       float64 `json:"end"`
		RootCause struct {
			Entity string `json:"entity"`
			Kind   string `json:"kind"`
		} `json:"root_cause"`
	}
	b, err := os.ReadFile(filepath.Join(d, "case.json"))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return c, fmt.Errorf("%s/case.json: %w", c.Name, err)
	}
	c.Onset, c.End, c.Root, c.Kind, c.Set = unix(meta.Onset), unix(meta.End), meta.RootCause.Entity, meta.RootCause.Kind, meta.RootCause.Kind
	if meta.Effect > 0 {
		c.Effect = unix(meta.Effect)
	}
	if meta.Alert > 0 {
		c.Alert = unix(meta.Alert)
	}
	if meta.Onset <= 0 || c.Root == "" {
		return c, fmt.Errorf("%s/case.json: want onset (unix s) and root_cause.entity", c.Name)
	}
	if c.Samples, err = readLong(filepath.Join(d, "metrics.csv")); err != nil {
		return c, err
	}
	if err := readJSONL(filepath.Join(d, "logs.jsonl"), func(line []byte) error {
		var l struct {
			Time     float64 `json:"time"`
			Entity   string  `json:"entity"`
			Severity string  `json:"severity"`
			Body     string  `json:"body"`
			TraceID  string  `json:"trace_id"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			return err
		}
		c.Logs = append(c.Logs, signal.LogRecord{Time: unix(l.Time), Entity: l.Entity, Severity: severityOf(l.Severity, l.Body), Body: l.Body, TraceID: l.TraceID})
		return nil
	}); err != nil {
		return c, err
	}
	if err := readJSONL(filepath.Join(d, "spans.jsonl"), func(line []byte) error {
		var s struct {
			TraceID  string            `json:"trace_id"`
			SpanID   string            `json:"span_id"`
			ParentID string            `json:"parent_id"`
			Service  string            `json:"service"`
			Op       string            `json:"operation"`
			Kind     string            `json:"kind"`
			Start    int64             `json:"start"`
			Dur      int64             `json:"duration_ns"`
			Status   string            `json:"status"`
			Attrs    map[string]string `json:"attrs"`
		}
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		c.Spans = append(c.Spans, signal.Span{TraceID: s.TraceID, SpanID: s.SpanID, ParentID: s.ParentID, Service: s.Service, Operation: s.Op,
			Kind: signal.SpanKind(s.Kind), Start: time.Unix(0, s.Start).UTC(), Duration: time.Duration(s.Dur), Status: signal.Status(cmp.Or(s.Status, "ok")), Attrs: s.Attrs})
		return nil
	}); err != nil {
		return c, err
	}
	if err := readJSONL(filepath.Join(d, "events.jsonl"), func(line []byte) error {
		var e struct {
			Time   float64 `json:"time"`
			Entity string  `json:"entity"`
			Kind   string  `json:"kind"`
			Text   string  `json:"text"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		c.Events = append(c.Events, signal.Event{Time: unix(e.Time), Entity: e.Entity, Kind: signal.EventKind(e.Kind), Text: e.Text, Source: "case"})
		return nil
	}); err != nil {
		return c, err
	}
	if b, err := os.ReadFile(filepath.Join(d, "topology.json")); err == nil {
		var tp struct {
			Edges    [][2]string `json:"edges"`
			Services []struct {
				Name      string   `json:"name"`
				Instances []string `json:"instances"`
				Hosts     []string `json:"hosts"`
			} `json:"services"`
		}
		if err := json.Unmarshal(b, &tp); err != nil {
			return c, fmt.Errorf("%s/topology.json: %w", c.Name, err)
		}
		for _, e := range tp.Edges {
			c.Topology.Edges = append(c.Topology.Edges, signal.Edge{Caller: e[0], Callee: e[1]})
		}
		for _, sv := range tp.Services {
			c.Topology.Services = append(c.Topology.Services, sv.Name)
			for k := range max(len(sv.Instances), len(sv.Hosts)) {
				p := signal.Placement{Service: sv.Name}
				if k < len(sv.Instances) {
					p.Instance = sv.Instances[k]
				}
				if k < len(sv.Hosts) && sv.Hosts[k] != "" {
					p.Host = signal.HostEntity(sv.Hosts[k])
				}
				c.Topology.Placements = append(c.Topology.Placements, p)
			}
		}
	}
	return c, nil
}

// readLong reads time,entity,name,value rows; a missing file is no samples.
func readLong(path string) ([]signal.Sample, error) {
	r, f, err := openCSV(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []signal.Sample
	intern := map[string]string{}
	str := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		s = strings.Clone(s)
		intern[s] = s
		return s
	}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && len(rec) > 0 && rec[0] == "time" {
			continue // the header
		}
		if len(rec) < 4 {
			return nil, fmt.Errorf("%s:%d: want time,entity,name,value, got %d fields", path, line, len(rec))
		}
		ts, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: time %q is not unix seconds", path, line, rec[0])
		}
		v, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			if rec[3] == "" {
				continue // no value at this time
			}
			return nil, fmt.Errorf("%s:%d: value %q is not a number", path, line, rec[3])
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out = append(out, signal.Sample{Time: unix(ts), Entity: str(rec[1]), Name: str(rec[2]), Value: v})
	}
	slices.SortStableFunc(out, func(a, b signal.Sample) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// readJSONL calls each for every line of the file (or its NAME.gz), a JSON
// object; a missing file is nothing, blank lines are skipped, and fields
// each does not know are ignored.
func readJSONL(path string, each func(line []byte) error) error {
	f, err := datafile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := each(b); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// severityOf is a record's level: its severity field, or when that is
// empty a level word at the start of its body.
func severityOf(field, body string) signal.Severity {
	if field == "" {
		return signal.GuessSeverity(body)
	}
	return signal.ParseSeverity(field)
}
