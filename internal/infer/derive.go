package infer

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// The series seer derives from traces and logs for its investigations. Their
// meaning is declared in the semantics table like any other name.
const (
	// SeriesSelfTime is the mean time a service's server spans spent in the
	// service itself (duration less its children's), in seconds.
	SeriesSelfTime = "seer_trace_self_time_seconds"
	// SeriesServerDuration is the median duration of a service's server
	// spans, in seconds.
	SeriesServerDuration = "seer_trace_server_duration_seconds"
	// SeriesCallGap is, per call edge (label caller), the median time
	// between the caller's client span and the callee's server span, in
	// seconds: the network and queueing in front of the callee. Its entity
	// is the callee.
	SeriesCallGap = "seer_trace_call_gap_seconds"
	// SeriesClientDuration is, per callee that wrote no server span of its
	// own (an external, or a span that was not kept), the median duration of
	// its callers' client spans, in seconds. Its entity is the callee.
	SeriesClientDuration = "seer_trace_client_duration_seconds"
	// SeriesErrorOrigin is the share of a service's spans that failed
	// without a failed child: errors that began there.
	SeriesErrorOrigin = "seer_trace_error_origin_ratio"
	// SeriesSpanRate is a service's server spans per second.
	SeriesSpanRate = "seer_trace_requests_rate"
	// SeriesFanOut is a service's outgoing calls per server span: a code
	// path that fails early stops calling its dependencies.
	SeriesFanOut = "seer_trace_fanout_calls"
	// SeriesLogErrors is a service's error-level log lines per second.
	SeriesLogErrors = "seer_log_error_lines_rate"
)

// isDerived tells whether a series name is one the Deriver makes.
func isDerived(name string) bool {
	switch name {
	case SeriesSelfTime, SeriesServerDuration, SeriesCallGap, SeriesClientDuration, SeriesErrorOrigin, SeriesSpanRate, SeriesFanOut, SeriesLogErrors:
		return true
	}
	return false
}

// Deriver turns spans and log records into per-bucket series (see the
// Series* names) that an investigation scores like metrics. Spans are
// buffered until their bucket closes (Grace after its end, in signal time),
// so that a client span meets its callee's server span. It is safe for
// concurrent use.
type Deriver struct {
	mu       sync.Mutex
	bucket   time.Duration
	grace    time.Duration
	max      int
	spans    map[int64][]signal.Span // by bucket start (unix ns)
	buffered int
	// logs counts, per bucket, the error lines of every service that
	// logged in it (0 for one that logged no error: a baseline too).
	logs    map[int64]map[string]float64
	dropped int
	newest  time.Time // the newest span end or log time added
}

// NewDeriver returns a Deriver with buckets of the given width (0: a
// minute), keeping at most max spans buffered (0: 500000); spans beyond are
// counted and dropped.
func NewDeriver(bucket time.Duration, max int) *Deriver {
	if bucket <= 0 {
		bucket = time.Minute
	}
	if max <= 0 {
		max = 500000
	}
	return &Deriver{bucket: bucket, grace: bucket / 2, max: max, spans: map[int64][]signal.Span{},
		logs: map[int64]map[string]float64{}}
}

func (d *Deriver) key(t time.Time) int64 { return t.Truncate(d.bucket).UnixNano() }

// AddSpans buffers the spans for their buckets (by end time).
func (d *Deriver) AddSpans(spans []signal.Span) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range spans {
		if s.Service == "" || s.SpanID == "" {
			continue
		}
		if d.buffered >= d.max {
			d.dropped++
			continue
		}
		if s.End().After(d.newest) {
			d.newest = s.End()
		}
		k := d.key(s.End())
		d.spans[k] = append(d.spans[k], s)
		d.buffered++
	}
}

// AddLogs counts the records per service and bucket.
func (d *Deriver) AddLogs(logs []signal.LogRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range logs {
		svc := rca.Service(l.Entity)
		if svc == "" {
			continue
		}
		if l.Time.After(d.newest) {
			d.newest = l.Time
		}
		k := d.key(l.Time)
		if d.logs[k] == nil {
			d.logs[k] = map[string]float64{}
		}
		n := d.logs[k][svc]
		if l.Severity.AtLeast(signal.SeverityError) {
			n++
		}
		d.logs[k][svc] = n // present, 0 or more
	}
}

// Newest is the newest span end or log time added: the derived series'
// clock.
func (d *Deriver) Newest() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.newest
}

// Dropped counts the spans left out because the buffer was full.
func (d *Deriver) Dropped() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

// Flush derives the series of every bucket that closed by now (all of
// them when now is zero) and forgets those buckets. Samples are stamped at
// their bucket's start.
func (d *Deriver) Flush(now time.Time) []signal.Sample {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []int64
	for k := range d.spans {
		keys = append(keys, k)
	}
	for k := range d.logs {
		if _, ok := d.spans[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []signal.Sample
	for _, k := range keys {
		end := time.Unix(0, k).Add(d.bucket + d.grace)
		if !now.IsZero() && end.After(now) {
			continue
		}
		t := time.Unix(0, k).UTC()
		// A span's parent may have ended in the next bucket (it outlives
		// its children): look it up there too.
		out = d.traceSeries(out, t, d.spans[k], d.spans[k+int64(d.bucket)])
		for _, svc := range slices.Sorted(maps.Keys(d.logs[k])) {
			out = append(out, signal.Sample{Time: t, Entity: svc, Name: SeriesLogErrors, Value: d.logs[k][svc] / d.bucket.Seconds()})
		}
		d.buffered -= len(d.spans[k])
		delete(d.spans, k)
		delete(d.logs, k)
	}
	return out
}

// traceSeries derives one bucket's trace series from its spans (next holds
// the following bucket's, where parents that ended later are found).
func (d *Deriver) traceSeries(out []signal.Sample, t time.Time, spans, next []signal.Span) []signal.Sample {
	if len(spans) == 0 {
		return out
	}
	type ref struct{ trace, span string }
	byID := make(map[ref]*signal.Span, len(spans)+len(next))
	children := make(map[ref][]*signal.Span, len(spans))
	for _, set := range [][]signal.Span{spans, next} {
		for i := range set {
			s := &set[i]
			byID[ref{s.TraceID, s.SpanID}] = s
		}
	}
	for i := range spans {
		s := &spans[i]
		if s.ParentID != "" {
			children[ref{s.TraceID, s.ParentID}] = append(children[ref{s.TraceID, s.ParentID}], s)
		}
	}
	// Children of next-bucket parents are in this bucket already; children
	// of this bucket's spans that ended earlier were in the previous bucket
	// and are gone, which only makes self time conservative there.
	type service struct {
		self, dur            []float64 // of its server spans
		spans, origin, calls int
	}
	type edge struct{ callee, caller string } // caller "": a callee with no span
	type call struct{ gaps, clients []float64 }
	services := map[string]*service{}
	edges := map[edge]*call{}
	isServer := func(s *signal.Span) bool {
		if s.Kind == signal.SpanServer || s.Kind == signal.SpanConsumer {
			return true
		}
		if s.Kind != "" {
			return false
		}
		p := byID[ref{s.TraceID, s.ParentID}]
		return s.ParentID == "" || p != nil && p.Service != s.Service
	}
	for i := range spans {
		s := &spans[i]
		a := services[s.Service]
		if a == nil {
			a = &service{}
			services[s.Service] = a
		}
		failedKid := false
		var childDur time.Duration
		var calleeServer *signal.Span
		for _, c := range children[ref{s.TraceID, s.SpanID}] {
			childDur += c.Duration
			failedKid = failedKid || c.Status == signal.StatusError
			if c.Service != s.Service && calleeServer == nil {
				calleeServer = c
			}
		}
		a.spans++
		if s.Status == signal.StatusError && !failedKid {
			a.origin++
		}
		if isServer(s) {
			a.dur = append(a.dur, s.Duration.Seconds())
			a.self = append(a.self, max(0, (s.Duration-childDur).Seconds()))
		}
		if s.Kind != signal.SpanClient && s.Kind != signal.SpanProducer && calleeServer == nil {
			continue
		}
		a.calls++
		var e edge
		switch {
		case calleeServer != nil:
			e = edge{calleeServer.Service, s.Service}
		case s.Attrs[signal.AttrPeerService] != "":
			e = edge{callee: s.Attrs[signal.AttrPeerService]}
		default:
			continue
		}
		c := edges[e]
		if c == nil {
			c = &call{}
			edges[e] = c
		}
		if calleeServer != nil {
			c.gaps = append(c.gaps, max(0, (s.Duration-calleeServer.Duration).Seconds()))
		} else {
			c.clients = append(c.clients, s.Duration.Seconds())
		}
	}
	step := d.bucket.Seconds()
	for _, name := range slices.Sorted(maps.Keys(services)) {
		a := services[name]
		if len(a.dur) > 0 {
			out = append(out,
				signal.Sample{Time: t, Entity: name, Name: SeriesServerDuration, Value: rca.Median(a.dur)},
				signal.Sample{Time: t, Entity: name, Name: SeriesSelfTime, Value: meanOf(a.self)},
				signal.Sample{Time: t, Entity: name, Name: SeriesSpanRate, Value: float64(len(a.dur)) / step},
				signal.Sample{Time: t, Entity: name, Name: SeriesFanOut, Value: float64(a.calls) / float64(len(a.dur))})
		}
		out = append(out, signal.Sample{Time: t, Entity: name, Name: SeriesErrorOrigin, Value: float64(a.origin) / float64(a.spans)})
	}
	for _, e := range slices.SortedFunc(maps.Keys(edges), func(a, b edge) int { return cmp.Or(cmp.Compare(a.callee, b.callee), cmp.Compare(a.caller, b.caller)) }) {
		c := edges[e]
		if len(c.gaps) > 0 {
			out = append(out, signal.Sample{Time: t, Entity: e.callee, Name: SeriesCallGap, Labels: map[string]string{"caller": e.caller}, Value: rca.Median(c.gaps)})
		}
		if len(c.clients) > 0 {
			out = append(out, signal.Sample{Time: t, Entity: e.callee, Name: SeriesClientDuration, Value: rca.Median(c.clients)})
		}
	}
	return out
}

func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / math.Max(1, float64(len(x)))
}
