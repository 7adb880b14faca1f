package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/memlimit"
)

// Config sets a receiver's limits.
type Config struct {
	// MaxBodyBytes caps a request body after decompression.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RatePerSource is the sustained requests per second one client address
	// may send; 0 turns rate limiting off.
	RatePerSource float64 `yaml:"rate_per_source"`
	// Burst is how many requests a source may send at once above its rate.
	Burst int `yaml:"burst"`
	// MaxInFlight is how many requests are decoded or handed on at once;
	// more are shed with 503 rather than queued.
	MaxInFlight int `yaml:"max_in_flight"`
	// MaxSources bounds the rate limiter's memory; sources beyond it share
	// one bucket.
	MaxSources int `yaml:"max_sources"`
	// SinkTimeout bounds how long a request waits for the pipeline to take
	// its batch (back-pressure) before it is answered 503.
	SinkTimeout time.Duration `yaml:"sink_timeout"`
	// Memory, when set, is the byte budget shared by every receiver and
	// the bus: above its soft limit requests are refused with 429, and
	// bodies read count against it until released.
	Memory *memlimit.Limiter `yaml:"-"`
}

// DefaultConfig allows 16 MiB bodies, 1000 requests/s per source (burst
// 2000), 16 requests in flight and a 10 s wait for the pipeline.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:  16 << 20,
		RatePerSource: 1000,
		Burst:         2000,
		MaxInFlight:   16,
		MaxSources:    10000,
		SinkTimeout:   10 * time.Second,
	}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_body_bytes must be at least 1024, got %d", c.MaxBodyBytes))
	}
	if c.RatePerSource < 0 {
		errs = append(errs, fmt.Errorf("rate_per_source must not be negative, got %g", c.RatePerSource))
	}
	if c.RatePerSource > 0 && c.Burst < 1 {
		errs = append(errs, fmt.Errorf("burst must be at least 1 when rate_per_source is set, got %d", c.Burst))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max_in_flight must be at least 1, got %d", c.MaxInFlight))
	}
	if c.MaxSources < 1 {
		errs = append(errs, fmt.Errorf("max_sources must be at least 1, got %d", c.MaxSources))
	}
	if c.SinkTimeout <= 0 {
		errs = append(errs, fmt.Errorf("sink_timeout must be positive, got %s", c.SinkTimeout))
	}
	return errors.Join(errs...)
}

// Problem is a rejection to send back: the HTTP status, a short reason for
// the counters, and a message that tells the client what to fix.
type Problem struct {
	Status int
	Reason string
	Msg    string
}

func (p *Problem) Error() string { return p.Msg }

// Errorf builds a Problem.
func Errorf(status int, reason, format string, args ...any) *Problem {
	return &Problem{Status: status, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Malformed is the 400 Problem of a payload that does not decode.
func Malformed(format string, args ...any) *Problem {
	return Errorf(http.StatusBadRequest, "malformed", format, args...)
}

// AsProblem turns any error into a Problem; a plain error is a 500.
func AsProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return Errorf(http.StatusInternalServerError, "internal", "%v", err)
}

// Guard enforces one receiver's limits and counts its traffic. It is safe
// for concurrent use.
type Guard struct {
	cfg  Config
	sem  chan struct{}
	lim  *limiter
	bufs sync.Pool
	gzs  sync.Pool
	m    metrics
	now  func() time.Time
}

// New builds the guard of the receiver named name; its counters carry
// receiver=name and are registered with reg when it is not nil.
func New(name string, cfg Config, reg prometheus.Registerer) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{
		cfg: cfg,
		sem: make(chan struct{}, cfg.MaxInFlight),
		lim: newLimiter(cfg.RatePerSource, cfg.Burst, cfg.MaxSources),
		m:   newMetrics(name, reg),
		now: time.Now,
	}
	g.bufs.New = func() any { return new(bytes.Buffer) }
	return g, nil
}

// Config is the guard's configuration.
func (g *Guard) Config() Config { return g.cfg }

// admissible refuses (and counts) a request from a source over its rate
// (429) or while seer is above its memory's soft limit; nil admits it.
func (g *Guard) admissible(source string) *Problem {
	if !g.lim.allow(source, g.now()) {
		p := Errorf(http.StatusTooManyRequests, "rate_limited",
			"source %s is over %g requests/s; slow down or batch more per request", source, g.cfg.RatePerSource)
		g.Reject(p)
		return p
	}
	return g.MemoryFull()
}

// Admit takes a slot for one request from source (a client address): it
// refuses with 429 when the source is over its rate and with 503 when the
// receiver is saturated. The caller must call release when done.
func (g *Guard) Admit(source string) (release func(), err error) {
	if p := g.admissible(source); p != nil {
		return nil, p
	}
	select {
	case g.sem <- struct{}{}:
		g.m.inFlight.Inc()
		return func() { <-g.sem; g.m.inFlight.Dec() }, nil
	default:
		return nil, g.Shed()
	}
}

// AdmitSpooled admits a request with a body as Admit does, but takes its
// in-flight slot only once its body is spooled (Spool): it refuses with
// 429 a source over its rate or a seer above its memory's soft limit, with
// 503 a saturated receiver, then reads the body, then takes a slot (503
// when the others took the last one meanwhile).
// Every refusal is counted. release frees the slot and the spooled bytes
// (unless Read handed them on).
func (g *Guard) AdmitSpooled(r *http.Request) (release func(), err error) {
	if p := g.admissible(Source(r)); p != nil {
		return nil, p
	}
	// A saturated receiver refuses before reading: its slots are held by
	// requests being decoded (slow senders hold none), and a body it would
	// shed anyway is not worth the bytes.
	if g.Saturated() {
		return nil, g.Shed()
	}
	if err := g.Spool(r); err != nil {
		p := AsProblem(err)
		g.Reject(p)
		return nil, p
	}
	select {
	case g.sem <- struct{}{}:
		g.m.inFlight.Inc()
		return func() { <-g.sem; g.m.inFlight.Dec(); releaseSpool(r) }, nil
	default:
		releaseSpool(r)
		return nil, g.Shed()
	}
}

// MemoryFull is the 429 of a seer above its memory's soft limit, counted,
// or nil when there is room. A receiver that must read a request before
// Admit (gRPC) asks it first, before reading the request.
func (g *Guard) MemoryFull() *Problem {
	if err := g.cfg.Memory.Check(); err != nil {
		p := Errorf(http.StatusTooManyRequests, "memory", "%v", err)
		g.Reject(p)
		return p
	}
	return nil
}

// Reserve counts n bytes against the memory limit for what decoding a
// request will take, or refuses with a 429 (for the caller to count, as
// its other failures) when that would take seer above its soft limit;
// own is what the request holds already (its Body's bytes), so that a
// request alone is never refused. release gives the n bytes back; call it
// once the request's batch is handed on.
func (g *Guard) Reserve(n, own int64) (release func(), err error) {
	if err := g.cfg.Memory.Reserve(n, own); err != nil {
		return nil, Errorf(http.StatusTooManyRequests, "memory", "%v", err)
	}
	return func() { g.cfg.Memory.Done(n) }, nil
}

// Saturated reports whether every in-flight slot is taken, without taking
// one: a receiver that must read a request before Admit (gRPC) refuses it
// early, before reading it.
func (g *Guard) Saturated() bool { return len(g.sem) == cap(g.sem) }

// Shed is the 503 of a saturated receiver, counted.
func (g *Guard) Shed() *Problem {
	p := Errorf(http.StatusServiceUnavailable, "shed",
		"seer is at its limit of %d requests in flight; retry later", g.cfg.MaxInFlight)
	g.Reject(p)
	return p
}

// Source is the client address of r without its port.
func Source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Body is a request body read into a pooled buffer; Release returns it.
type Body struct {
	Bytes []byte
	buf   *bytes.Buffer
	g     *Guard
	held  int64 // bytes counted against the memory limit
}

// Held is the bytes of the body counted against the memory limit.
func (b *Body) Held() int64 { return b.held }

// Release hands the buffer back for reuse; Bytes must not be used after.
func (b *Body) Release() {
	b.g.cfg.Memory.Done(b.held)
	b.held = 0
	if b.buf != nil && int64(b.buf.Cap()) <= b.g.cfg.MaxBodyBytes {
		b.buf.Reset()
		b.g.bufs.Put(b.buf)
	}
	b.buf, b.Bytes = nil, nil
}

// spooled is a request body read whole from the network by Spool.
type spooled struct {
	*bytes.Reader
	body *Body
}

func (s *spooled) Close() error { return nil }

// spoolChunk is the least room made in a spool's buffer at a time.
const spoolChunk = 32 << 10

// Spool reads r's body (as sent, before any decoding) from the network
// into memory, counting it against the memory limit as it arrives, and
// puts it back as r's body for Read. A receiver spools before it takes an
// in-flight slot (Serve does), so that a client sending slowly holds its
// connection (for ReadTimeout at most) and the bytes it sent, never one of
// the MaxInFlight slots that decode and hand on: slow clients cannot starve
// the others. A body over MaxBodyBytes is refused with 413, one that would
// take seer above its memory's soft limit with 429; Release or Read's body
// gives the bytes back. Spooling twice is spooling once.
func (g *Guard) Spool(r *http.Request) error {
	if _, ok := r.Body.(*spooled); ok || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		return g.tooLarge()
	}
	buf := g.bufs.Get().(*bytes.Buffer)
	b := &Body{buf: buf, g: g}
	src := io.LimitReader(r.Body, g.cfg.MaxBodyBytes+1)
	for {
		if buf.Available() < spoolChunk/2 {
			want := max(2*buf.Cap(), buf.Len()+spoolChunk)
			if buf.Len() == 0 && r.ContentLength > 0 {
				want = int(r.ContentLength) + 1 // room to see the end
			}
			want = int(min(int64(want), g.cfg.MaxBodyBytes+1))
			if grow := int64(max(want, buf.Cap())) - b.held; grow > 0 {
				if err := g.cfg.Memory.Reserve(grow, b.held); err != nil {
					b.Release()
					return Errorf(http.StatusTooManyRequests, "memory", "%v", err)
				}
				b.held += grow
			}
			buf.Grow(want - buf.Len())
		}
		p := buf.AvailableBuffer()
		n, err := src.Read(p[:cap(p)])
		buf.Write(p[:n]) // into its own spare room: no copy elsewhere
		if int64(buf.Len()) > g.cfg.MaxBodyBytes {
			b.Release()
			return g.tooLarge()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Release()
			return Malformed("reading the body: %v", err)
		}
	}
	// What the buffer holds beyond what was reserved (a pooled buffer
	// comes with its room) is counted too.
	if extra := int64(buf.Cap()) - b.held; extra > 0 {
		g.cfg.Memory.Add(extra)
		b.held += extra
	}
	b.Bytes = buf.Bytes()
	r.Body = &spooled{Reader: bytes.NewReader(b.Bytes), body: b}
	return nil
}

// releaseSpool gives back the bytes of r's spooled body, unless Read
// handed them on as the request's Body (whose Release does it).
func releaseSpool(r *http.Request) {
	if sp, ok := r.Body.(*spooled); ok && sp.body != nil {
		sp.body.Release()
		sp.body = nil
	}
}

// Read reads r's body, decompressing a Content-Encoding of gzip, and refuses
// with 413 a body over MaxBodyBytes and with 415 another encoding. With raw
// set the encoding is left to the caller (remote_write's snappy). A body
// spooled already is read from memory, and handed on as it is when there
// is nothing to decompress.
func (g *Guard) Read(r *http.Request, raw bool) (*Body, error) {
	if r.ContentLength > g.cfg.MaxBodyBytes {
		return nil, g.tooLarge()
	}
	var src io.Reader = r.Body
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if sp, ok := r.Body.(*spooled); ok && sp.body != nil && (raw || enc == "" || enc == "identity") {
		b := sp.body
		sp.body = nil
		return b, nil
	}
	if !raw {
		switch enc {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := g.gzipReader(r.Body)
			if err != nil {
				return nil, Malformed("the body is not valid gzip: %v", err)
			}
			defer g.gzs.Put(zr)
			src = zr
		default:
			return nil, Errorf(http.StatusUnsupportedMediaType, "encoding",
				"Content-Encoding %q is not supported; send gzip or no encoding", enc)
		}
	}
	buf := g.bufs.Get().(*bytes.Buffer)
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(src, g.cfg.MaxBodyBytes+1))
	b := &Body{Bytes: buf.Bytes(), buf: buf, g: g}
	switch {
	case err != nil:
		b.Release()
		var p *Problem
		if errors.As(err, &p) {
			return nil, p
		}
		return nil, Malformed("reading the body: %v", err)
	case n > g.cfg.MaxBodyBytes:
		b.Release()
		return nil, g.tooLarge()
	}
	b.held = int64(buf.Cap())
	g.cfg.Memory.Add(b.held)
	return b, nil
}

func (g *Guard) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := g.gzs.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			g.gzs.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

func (g *Guard) tooLarge() *Problem {
	return Errorf(http.StatusRequestEntityTooLarge, "too_large",
		"the body is over %d bytes (decoded); send smaller batches", g.cfg.MaxBodyBytes)
}

// SinkContext bounds how long a request waits for the pipeline.
func (g *Guard) SinkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.cfg.SinkTimeout)
}

// SinkFailed is the Problem of a batch the pipeline did not take, counted
// as shed: a 503 the client may retry.
func (g *Guard) SinkFailed(err error, items int) *Problem {
	g.m.dropped.WithLabelValues("sink").Add(float64(items))
	return Errorf(http.StatusServiceUnavailable, "sink", "the pipeline did not take the batch (%v); retry later", err)
}

// Reject counts a refused request under its reason.
func (g *Guard) Reject(p *Problem) { g.m.requests.WithLabelValues(p.Reason).Inc() }

// Accept counts an accepted request.
func (g *Guard) Accept() { g.m.requests.WithLabelValues("accepted").Inc() }

// Received counts items of a kind (samples, logs, spans, events) handed on.
func (g *Guard) Received(kind string, n int) {
	if n > 0 {
		g.m.items.WithLabelValues(kind).Add(float64(n))
	}
}

// Dropped counts items skipped for a reason (bad value, unsupported type,
// too many series).
func (g *Guard) Dropped(reason string, n int) {
	if n > 0 {
		g.m.dropped.WithLabelValues(reason).Add(float64(n))
	}
}

// WriteText answers err as plain text with its status.
func WriteText(w http.ResponseWriter, err error) {
	p := AsProblem(err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(p.Status)
	_, _ = io.WriteString(w, p.Msg+"\n")
}

// Serve runs one plain-text request through the guard: it checks the
// source's rate and the memory, spools the body (see Spool), takes an
// in-flight slot, calls handle, and answers a failure as text, counting
// it. handle writes the success answer itself.
func (g *Guard) Serve(w http.ResponseWriter, r *http.Request, handle func() error) {
	release, err := g.AdmitSpooled(r)
	if err != nil {
		WriteText(w, err)
		return
	}
	defer release()
	if err := handle(); err != nil {
		p := AsProblem(err)
		g.Reject(p)
		WriteText(w, p)
	}
}
