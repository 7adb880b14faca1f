package export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// Case writes one case directory. Write may be called any number of times,
// then Close once with the ground truth. It is not safe for concurrent use.
type Case struct {
	dir                          string
	files                        []*os.File
	metrics, logs, spans, events *bufio.Writer
	buf                          []byte
	err                          error
}

// NewCase creates dir (and its parents) and the case's signal files in it.
func NewCase(dir string) (*Case, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the case directory: %w", err)
	}
	c := &Case{dir: dir}
	open := func(name string) *bufio.Writer {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			c.err = errors.Join(c.err, err)
			return bufio.NewWriter(discard{})
		}
		c.files = append(c.files, f)
		return bufio.NewWriterSize(f, 1<<16)
	}
	c.metrics, c.logs, c.spans, c.events = open("metrics.csv"), open("logs.jsonl"), open("spans.jsonl"), open("events.jsonl")
	if c.err != nil {
		c.closeFiles()
		return nil, c.err
	}
	c.metrics.WriteString("time,entity,name,value\n")
	return c, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type logLine struct {
	Time     float64 `json:"time"`
	Entity   string  `json:"entity"`
	Severity string  `json:"severity"`
	Body     string  `json:"body"`
	TraceID  string  `json:"trace_id,omitempty"`
}

type spanLine struct {
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	ParentID   string            `json:"parent_id"`
	Service    string            `json:"service"`
	Operation  string            `json:"operation"`
	Kind       string            `json:"kind,omitempty"`
	Start      int64             `json:"start"`
	DurationNs int64             `json:"duration_ns"`
	Status     string            `json:"status"`
	Attrs      map[string]string `json:"attrs,omitempty"`
}

type eventLine struct {
	Time   float64           `json:"time"`
	Entity string            `json:"entity"`
	Kind   string            `json:"kind"`
	Text   string            `json:"text"`
	Attrs  map[string]string `json:"attrs,omitempty"`
}

func unixS(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Write appends a batch to the case's files.
func (c *Case) Write(b signal.Batch) error {
	if c.err != nil {
		return c.err
	}
	for _, s := range b.Samples {
		bb := strconv.AppendInt(c.buf[:0], s.Time.Unix(), 10)
		bb = append(bb, ',')
		bb = append(bb, s.Entity...)
		if in := s.Labels["instance"]; in != "" {
			bb = append(bb, '/')
			bb = append(bb, in...)
		}
		bb = append(bb, ',')
		bb = append(bb, s.Name...)
		bb = append(bb, ',')
		bb = strconv.AppendFloat(bb, s.Value, 'g', 6, 64)
		bb = append(bb, '\n')
		c.buf = bb
		c.metrics.Write(bb)
	}
	enc := func(w *bufio.Writer, v any) {
		js, err := json.Marshal(v)
		if err != nil {
			c.err = err
			return
		}
		w.Write(js)
		w.WriteByte('\n')
	}
	for _, l := range b.Logs {
		enc(c.logs, logLine{Time: unixS(l.Time), Entity: l.Entity, Severity: string(l.Severity), Body: l.Body, TraceID: l.TraceID})
	}
	for _, s := range b.Spans {
		enc(c.spans, spanLine{TraceID: s.TraceID, SpanID: s.SpanID, ParentID: s.ParentID, Service: s.Service,
			Operation: s.Operation, Kind: string(s.Kind), Start: s.Start.UnixNano(), DurationNs: int64(s.Duration),
			Status: string(s.Status), Attrs: s.Attrs})
	}
	for _, e := range b.Events {
		enc(c.events, eventLine{Time: unixS(e.Time), Entity: e.Entity, Kind: string(e.Kind), Text: e.Text, Attrs: e.Attrs})
	}
	return c.err
}

// RootCause is the entity at fault and the kind of fault.
type RootCause struct {
	Entity string `json:"entity"`
	Kind   string `json:"kind"`
}

// Truth is the ground truth of a case, as case.json holds it.
type Truth struct {
	System string `json:"system"`
	Onset  int64  `json:"onset"`
	// Effect is when the fault began to act on the system
	// (sim.Truth.Effect): later than Onset for a deploy or config change.
	Effect    int64     `json:"effect"`
	End       int64     `json:"end"`
	RootCause RootCause `json:"root_cause"`
	Affected  []string  `json:"affected"`
	// Faults are every fault injected (the first is the root cause), and
	// Seed and Scenario say how to make the case again.
	Faults   []sim.Truth `json:"faults,omitempty"`
	Seed     int64       `json:"seed"`
	Scenario string      `json:"scenario,omitempty"`
}

// TruthOf is the case truth of a run whose faults were truths; end is the
// run's end, used for a fault that lasts until then. Without faults the case
// has no root cause (a healthy case).
func TruthOf(system string, truths []sim.Truth, end time.Time) Truth {
	t := Truth{System: system, Faults: truths, Affected: []string{}}
	if len(truths) == 0 {
		return t
	}
	f := truths[0]
	t.Onset, t.Effect, t.RootCause = f.Start.Unix(), f.Effect.Unix(), RootCause{Entity: f.Target, Kind: string(f.Kind)}
	t.End = end.Unix()
	if !f.End.IsZero() && f.End.Before(end) {
		t.End = f.End.Unix()
	}
	t.Affected = f.Affected
	return t
}

// topologyFile is topology.json: the call edges, and the services' kinds.
type topologyFile struct {
	Edges    [][2]string   `json:"edges"`
	Services []serviceInfo `json:"services"`
}

type serviceInfo struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Instances []string `json:"instances,omitempty"`
	Hosts     []string `json:"hosts,omitempty"`
}

// Close writes case.json and topology.json and closes the files.
func (c *Case) Close(w *sim.World, truth Truth) error {
	for _, b := range []*bufio.Writer{c.metrics, c.logs, c.spans, c.events} {
		c.err = errors.Join(c.err, b.Flush())
	}
	c.closeFiles()
	if c.err != nil {
		return c.err
	}
	if err := writeJSON(filepath.Join(c.dir, "case.json"), truth); err != nil {
		return err
	}
	if w == nil {
		return nil
	}
	topo := topologyFile{Edges: w.Edges()}
	names := w.Services()
	sort.Strings(names)
	for _, s := range names {
		in, hs := w.Instances(s)
		topo.Services = append(topo.Services, serviceInfo{Name: s, Kind: w.Kind(s), Instances: in, Hosts: hs})
	}
	return writeJSON(filepath.Join(c.dir, "topology.json"), topo)
}

func (c *Case) closeFiles() {
	for _, f := range c.files {
		c.err = errors.Join(c.err, f.Close())
	}
	c.files = nil
}

func writeJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(js, '\n'), 0o644)
}
