package promrw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/ingest/delta"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/signal"
)

// Sink takes the signals a receiver decoded; (*engine.Engine).Ingest is one.
type Sink interface {
	Ingest(ctx context.Context, b *signal.Batch) error
}

// Config configures the remote_write receiver.
type Config struct {
	// Path is where the lead mounts Handler; it answers on any path.
	Path   string       `yaml:"path"`
	Limits guard.Config `yaml:"limits"`
	Series delta.Config `yaml:"series"`
}

// DefaultConfig is Prometheus's usual path with the default limits.
func DefaultConfig() Config {
	return Config{Path: "/api/v1/write", Limits: guard.DefaultConfig(), Series: delta.DefaultConfig()}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("remote_write.path must start with /, got %q", c.Path))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("remote_write.limits: %w", err))
	}
	if err := c.Series.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("remote_write.series: %w", err))
	}
	return errors.Join(errs...)
}

// Receiver decodes remote_write requests and hands them to its sink. It is
// safe for concurrent use.
type Receiver struct {
	cfg    Config
	sink   Sink
	log    *slog.Logger
	guard  *guard.Guard
	series *delta.Tracker
	bufs   sync.Pool

	mu    sync.Mutex
	hists map[string]*hist
	// types are the metric families' types remote_write metadata declared:
	// a counter without the _total suffix is a rate, not a gauge.
	types map[string]uint64
	// mono judges the series of untyped families (node_exporter's netstat
	// and snmp counters are untyped) by their data: monotonic is a counter.
	mono map[string]*monotony
}

// monotony is what the first points of an untyped series showed.
type monotony struct {
	last    float64
	n, rise int
	counter bool // judged a counter
	done    bool // judged
}

// monoPoints is how many points judge an untyped series: a counter never
// falls, holds whole non-negative values and rises in most of them.
const monoPoints = 8

// maxCounters bounds the metric families whose type is remembered from
// metadata.
const maxCounters = 1 << 16

// New builds a receiver; its counters are registered with reg (may be nil).
func New(cfg Config, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g, err := guard.New("remote_write", cfg.Limits, reg)
	if err != nil {
		return nil, err
	}
	return &Receiver{cfg: cfg, sink: sink, log: logger.With("component", "ingest.promrw"), guard: g,
		series: delta.New(cfg.Series), hists: make(map[string]*hist), types: make(map[string]uint64), mono: make(map[string]*monotony)}, nil
}

// Handler serves remote_write on any path: POST, snappy-compressed
// protobuf; 204 on success.
func (r *Receiver) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		guard.WriteText(w, guard.Errorf(http.StatusMethodNotAllowed, "method", "remote_write takes POST, not %s", req.Method))
		return
	}
	if err := checkHeaders(req); err != nil {
		r.guard.Reject(err)
		guard.WriteText(w, err)
		return
	}
	r.guard.Serve(w, req, func() error {
		if err := r.write(req); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func checkHeaders(req *http.Request) *guard.Problem {
	// The Content-Type is required: without it a web page of any site could
	// post samples from a browser, which sends no preflight for a request
	// without one.
	ct := req.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-protobuf" {
		return guard.Errorf(http.StatusUnsupportedMediaType, "content_type",
			"Content-Type %q is not remote_write; send application/x-protobuf", ct)
	}
	if p := params["proto"]; p != "" && p != "prometheus.WriteRequest" {
		return guard.Errorf(http.StatusUnsupportedMediaType, "content_type",
			"remote_write message %q is not supported; configure remote_write version 1 (prometheus.WriteRequest)", p)
	}
	if enc := req.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		return guard.Errorf(http.StatusUnsupportedMediaType, "encoding",
			"Content-Encoding %q is not supported; remote_write bodies are snappy", enc)
	}
	return nil
}

// write reads, decodes and delivers one request.
func (r *Receiver) write(req *http.Request) error {
	body, err := r.guard.Read(req, true)
	if err != nil {
		return err
	}
	defer body.Release()
	n, err := snappy.DecodedLen(body.Bytes)
	if err != nil {
		return guard.Malformed("the body is not snappy-compressed: %v", err)
	}
	if int64(n) > r.cfg.Limits.MaxBodyBytes {
		return guard.Errorf(http.StatusRequestEntityTooLarge, "too_large",
			"the body decodes to %d bytes, over %d; lower max_samples_per_send", n, r.cfg.Limits.MaxBodyBytes)
	}
	// The decoded request and the batch it becomes, each about its size
	// (measured: 5.6 MB of WriteRequest, 50,000 samples of five labels,
	// make a batch of 0.5–0.9× it), are held against the memory limit.
	release, err := r.guard.Reserve(2*int64(n), body.Held())
	if err != nil {
		return err
	}
	defer release()
	bp, _ := r.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer r.bufs.Put(bp)
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	raw, err := snappy.Decode((*bp)[:n], body.Bytes)
	if err != nil {
		return guard.Malformed("the body is not snappy-compressed: %v", err)
	}
	return r.ingest(req.Context(), raw)
}

// ingest converts a decoded WriteRequest and delivers it.
func (r *Receiver) ingest(ctx context.Context, raw []byte) error {
	var (
		b    signal.Batch
		c    conv
		s    series
		derr error
	)
	err := decode(raw, &s, func(s *series) {
		if derr == nil {
			derr = r.convert(&c, s, &b)
		}
	}, r.metadata)
	if err == nil {
		err = derr
	}
	if err != nil {
		return guard.Malformed("%v", err)
	}
	for reason, n := range c.dropped {
		r.guard.Dropped(reason, n)
	}
	if b.Len() > 0 {
		sctx, cancel := r.guard.SinkContext(ctx)
		err := r.sink.Ingest(sctx, &b)
		cancel()
		if err != nil {
			return r.guard.SinkFailed(err, b.Len())
		}
	}
	r.guard.Received("samples", len(b.Samples))
	r.guard.Accept()
	return nil
}

// metadata remembers the types of the metric families declared.
func (r *Receiver) metadata(typ uint64, family []byte) {
	if len(family) == 0 {
		return
	}
	r.mu.Lock()
	if _, ok := r.types[string(family)]; ok || len(r.types) < maxCounters {
		r.types[string(family)] = typ
	}
	r.mu.Unlock()
}

// counter tells whether the series is a counter: by its name's suffix, by
// the metadata Prometheus sent, or, for a family declared untyped or not
// declared (yet), by its data (see monotony), judged on its first
// monoPoints points from values vs.
func (r *Receiver) counter(name, key string, vs []point) bool {
	if strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_sum") {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	typ, declared := r.types[name]
	switch {
	case typ == metricTypeCounter:
		return true
	case declared && typ != metricTypeUnknown:
		return false
	}
	m := r.mono[key]
	if m == nil {
		if len(r.mono) >= r.cfg.Series.MaxSeries {
			return false
		}
		m = &monotony{last: math.NaN()}
		r.mono[key] = m
	}
	for _, p := range vs {
		if m.done || math.IsNaN(p.v) {
			continue
		}
		whole := p.v >= 0 && p.v == math.Trunc(p.v)
		switch {
		case !whole || !math.IsNaN(m.last) && p.v < m.last:
			m.done = true
		case !math.IsNaN(m.last) && p.v > m.last:
			m.rise++
		}
		m.last = p.v
		if m.n++; m.n >= monoPoints && !m.done {
			m.done, m.counter = true, m.rise >= monoPoints/2
		}
	}
	return m.counter
}

// conv is one request's scratch state.
type conv struct {
	dropped map[string]int
	key     []byte
	keys    []string
	// strs interns the request's label names and values (and rate names):
	// the same few recur in every series.
	strs map[string]string
	// lastEntity is the last entity found valid.
	lastEntity string
}

func (c *conv) str(b []byte) string {
	if s, ok := c.strs[string(b)]; ok {
		return s
	}
	if c.strs == nil {
		c.strs = make(map[string]string, 256)
	}
	s := string(b)
	c.strs[s] = s
	return s
}

func (c *conv) drop(reason string, n int) {
	if c.dropped == nil {
		c.dropped = make(map[string]int)
	}
	c.dropped[reason] += n
}

// entityLabels are the labels that name the entity, in order of preference.
var entityLabels = [...]string{"service", "job", "instance"}

// convert turns one series into samples.
func (r *Receiver) convert(c *conv, s *series, b *signal.Batch) error {
	if s.histograms > 0 {
		c.drop("native_histogram", s.histograms)
	}
	if len(s.samples) == 0 {
		return nil
	}
	var name string
	pick := len(entityLabels)
	var le []byte
	hasLE := false
	for _, l := range s.labels {
		switch string(l.name) {
		case "__name__":
			name = c.str(l.value)
		case "le":
			le, hasLE = l.value, true
		}
		for i, e := range entityLabels[:pick] {
			if string(l.name) == e && len(l.value) > 0 {
				pick = i
			}
		}
	}
	if name == "" {
		return errors.New("a series has no __name__ label")
	}
	entity := "unknown"
	labels := make(map[string]string, len(s.labels))
	for _, l := range s.labels {
		k := c.str(l.name)
		switch {
		case pick < len(entityLabels) && k == entityLabels[pick]:
			entity = c.str(l.value)
		case k == "__name__", k == "le" && hasLE:
		default:
			labels[k] = c.str(l.value)
		}
	}
	if len(labels) == 0 {
		labels = nil
	}
	if entity != c.lastEntity {
		if signal.CheckEntity(entity) != nil {
			// Entities reach runbooks; the series is dropped, its
			// neighbours kept (a 4xx would make Prometheus drop them all).
			c.drop("bad_entity", len(s.samples))
			return nil
		}
		c.lastEntity = entity
	}
	switch {
	case hasLE && strings.HasSuffix(name, "_bucket"):
		bound, err := strconv.ParseFloat(string(le), 64)
		if err != nil || math.IsNaN(bound) {
			c.drop("bad_le", len(s.samples))
			return nil
		}
		base := strings.TrimSuffix(name, "_bucket")
		c.key = c.appendKey(entity, base, labels)
		for _, p := range s.samples {
			if math.IsNaN(p.v) {
				c.drop("stale", 1)
				continue
			}
			b.Samples = r.bucket(b.Samples, c, string(c.key), signal.Sample{Entity: entity, Labels: labels}, base, bound, p)
		}
	case r.counter(name, string(c.appendKey(entity, name, labels)), s.samples):
		c.key = c.appendKey(entity, name, labels)
		key := string(c.key)
		c.key = append(c.key[:0], name...)
		c.key = append(c.key, "\x00rate"...)
		rname, ok := c.strs[string(c.key)]
		if !ok {
			rname = delta.RateName(name)
			c.strs[string(c.key)] = rname
		}
		for _, p := range s.samples {
			if math.IsNaN(p.v) {
				c.drop("stale", 1)
				continue
			}
			ts := time.UnixMilli(p.ms)
			if v, ok := r.series.Rate(key, ts, p.v, time.Time{}); ok {
				b.Samples = append(b.Samples, signal.Sample{Time: ts, Entity: entity, Name: rname, Labels: labels, Value: v})
			}
		}
	default:
		for _, p := range s.samples {
			if math.IsNaN(p.v) || math.IsInf(p.v, 0) {
				c.drop("stale", 1)
				continue
			}
			b.Samples = append(b.Samples, signal.Sample{Time: time.UnixMilli(p.ms), Entity: entity, Name: name, Labels: labels, Value: p.v})
		}
	}
	return nil
}

// appendKey is the identity of a series across requests, in c.key.
func (c *conv) appendKey(entity, name string, labels map[string]string) []byte {
	buf := append(c.key[:0], entity...)
	buf = append(buf, 0)
	buf = append(buf, name...)
	if len(labels) == 0 {
		return buf
	}
	c.keys = c.keys[:0]
	for k := range labels {
		c.keys = append(c.keys, k)
	}
	slices.Sort(c.keys)
	for _, k := range c.keys {
		buf = append(buf, 0)
		buf = append(buf, k...)
		buf = append(buf, '=')
		buf = append(buf, labels[k]...)
	}
	return buf
}

// hist gathers the buckets of one classic histogram, scrape by scrape:
// Prometheus shards series by their labels, so the buckets of one scrape
// may come in several requests.
type hist struct {
	// les are the bounds seen in the last complete scrape.
	les []float64
	// ms is the time of the scrape being gathered; vals its buckets.
	ms   int64
	vals map[float64]float64
}

// bucket adds one bucket value and appends the histogram's summary when a
// scrape is complete: when all its known buckets are in, or else when the
// next scrape begins.
func (r *Receiver) bucket(out []signal.Sample, c *conv, key string, tmpl signal.Sample, base string, le float64, p point) []signal.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hists[key]
	if h == nil {
		if len(r.hists) >= r.cfg.Series.MaxSeries {
			c.drop("too_many_series", 1)
			return out
		}
		h = &hist{ms: p.ms, vals: make(map[float64]float64)}
		r.hists[key] = h
	}
	switch {
	case p.ms < h.ms:
		c.drop("out_of_order", 1)
		return out
	case p.ms > h.ms:
		out = r.complete(out, key, tmpl, base, h)
		h.ms = p.ms
	}
	h.vals[le] = p.v
	if len(h.les) > 0 && len(h.vals) == len(h.les) {
		out = r.complete(out, key, tmpl, base, h)
	}
	return out
}

// complete summarises the scrape gathered in h, if it has the +Inf bucket.
func (r *Receiver) complete(out []signal.Sample, key string, tmpl signal.Sample, base string, h *hist) []signal.Sample {
	if len(h.vals) == 0 {
		return out
	}
	les := make([]float64, 0, len(h.vals))
	for le := range h.vals {
		les = append(les, le)
	}
	slices.Sort(les)
	vals := h.vals
	h.vals = make(map[float64]float64, len(les))
	if !math.IsInf(les[len(les)-1], 1) {
		// A partial scrape: its buckets do not redefine the histogram.
		return out
	}
	h.les = les
	bounds := les[:len(les)-1]
	counts := make([]float64, len(les))
	prev := 0.0
	for i, le := range les {
		counts[i] = max(0, vals[le]-prev)
		prev = max(prev, vals[le])
	}
	tmpl.Time = time.UnixMilli(h.ms)
	if w, ok := r.series.Histogram(key, tmpl.Time, time.Time{}, bounds, counts, 0); ok {
		out = delta.AppendWindow(out, tmpl, base, w)
	}
	return out
}
