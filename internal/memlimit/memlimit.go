// Package memlimit bounds, in bytes, what seer holds for its clients: the
// request bodies being read and decoded and the batches queued between the
// stages. It is modelled on the OpenTelemetry Collector's memory_limiter:
// above a soft limit (the limit less a spike allowance) new data is
// refused, so that receivers answer 429 with Retry-After (gRPC
// RESOURCE_EXHAUSTED) and clients back off, rather than the process
// growing until the kernel kills it. Besides its own count of queued bytes
// it watches the Go heap, which also holds what the stages have learned.
package memlimit

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Config sets the limits; a LimitBytes of 0 turns the limiter off.
type Config struct {
	// LimitBytes is the most memory seer should use, queued data and heap.
	LimitBytes int64 `yaml:"limit_bytes"`
	// SpikeBytes is the headroom kept below LimitBytes for what is already
	// admitted: new data is refused above LimitBytes - SpikeBytes.
	SpikeBytes int64 `yaml:"spike_bytes"`
	// CheckInterval is how often the heap is read.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// DefaultConfig limits seer to 1 GiB, refusing new data above 640 MiB:
// the Go runtime needs room above what is live to collect without
// running flat out, and the process holds its binary besides (the
// Collector's memory_limiter, likewise, is advised a spike of a fifth to a
// quarter of a limit that is itself four fifths of the memory).
func DefaultConfig() Config {
	return Config{LimitBytes: 1 << 30, SpikeBytes: 384 << 20, CheckInterval: 100 * time.Millisecond}
}

// Validate reports every problem, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.LimitBytes < 0 {
		errs = append(errs, fmt.Errorf("limit_bytes must be 0 (off) or positive, got %d", c.LimitBytes))
	}
	if c.LimitBytes > 0 && (c.SpikeBytes < 0 || c.SpikeBytes >= c.LimitBytes) {
		errs = append(errs, fmt.Errorf("spike_bytes must be in [0, limit_bytes), got %d", c.SpikeBytes))
	}
	if c.LimitBytes > 0 && c.CheckInterval <= 0 {
		errs = append(errs, fmt.Errorf("check_interval must be positive, got %s", c.CheckInterval))
	}
	return errors.Join(errs...)
}

// RuntimeLimit is the Go runtime's memory limit (debug.SetMemoryLimit) for
// a process limited by cfg, or 0 when cfg sets no limit. The runtime lets
// the memory it manages grow up to its limit before it collects hard, and
// overshoots it when the collector cannot keep up (a busy machine); the
// resident set also holds what it does not manage: the pages of the
// executable (exe is its size, a bound on them) and SQLite's allocations.
// So the runtime gets LimitBytes less exe and less an eighth of
// LimitBytes, but never less than the soft limit, where seer refuses new
// data: below it the collector would run flat out while data is still let
// in. Measured under 5× overload on a busy 2-core machine, with a sixteenth
// instead of an eighth, the resident set of a 1 GiB seer peaked at
// 1023 MiB.
func RuntimeLimit(cfg Config, exe int64) int64 {
	if cfg.LimitBytes <= 0 {
		return 0
	}
	return max(cfg.LimitBytes-exe-cfg.LimitBytes/8, cfg.LimitBytes-cfg.SpikeBytes)
}

// ErrFull is what Check wraps when seer is above its soft limit.
var ErrFull = errors.New("seer is at its memory limit")

// Limiter counts the bytes queued and refuses new data above the soft
// limit. A nil *Limiter limits nothing. It is safe for concurrent use.
type Limiter struct {
	soft, limit int64
	every       time.Duration
	heap        func() int64 // the Go heap in use, in bytes

	queued  atomic.Int64
	lastHp  atomic.Int64 // the heap as last read
	readAt  atomic.Int64 // when, unix nanoseconds
	refused atomic.Int64
}

// New returns the limiter of cfg, or nil (no limit) when LimitBytes is 0.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.LimitBytes == 0 {
		return nil, nil
	}
	return &Limiter{soft: cfg.LimitBytes - cfg.SpikeBytes, limit: cfg.LimitBytes, every: cfg.CheckInterval, heap: goHeap}, nil
}

// SetHeap replaces the reading of the Go heap (tests).
func (l *Limiter) SetHeap(f func() int64) { l.heap = f; l.readAt.Store(0) }

// Add counts n more bytes held: a body read, a batch queued.
func (l *Limiter) Add(n int64) {
	if l != nil {
		l.queued.Add(n)
	}
}

// Done counts n bytes no longer held.
func (l *Limiter) Done(n int64) {
	if l != nil {
		l.queued.Add(-n)
	}
}

// Reserve counts n more bytes held, as Add does, unless that takes what is
// held above the soft limit while something else is held: then it refuses
// (an error wrapping ErrFull) and counts nothing. A receiver reserves what
// decoding a request will take before it decodes it, so that requests
// admitted together cannot together decode past the limit; own is what
// the request holds already (its body), so that a request alone is let in
// whatever its size (its body is capped). The caller releases the n bytes
// with Done.
func (l *Limiter) Reserve(n, own int64) error {
	if l == nil || n <= 0 {
		return nil
	}
	q := l.queued.Add(n)
	if held := max(q-n, l.lastHp.Load()); held+n > l.soft && q-n-own > 0 {
		l.queued.Add(-n)
		l.refused.Add(1)
		return fmt.Errorf("%w: %d MiB held and %d MiB more to decode a request, above the soft limit of %d MiB; retry later",
			ErrFull, held>>20, n>>20, l.soft>>20)
	}
	return nil
}

// Queued is the bytes held now.
func (l *Limiter) Queued() int64 {
	if l == nil {
		return 0
	}
	return l.queued.Load()
}

// Refused is how many times Check refused.
func (l *Limiter) Refused() int64 {
	if l == nil {
		return 0
	}
	return l.refused.Load()
}

// Check refuses (an error wrapping ErrFull, saying what is over) when the
// bytes held, or the heap, are above the soft limit; new data must then
// wait. It reads the heap at most once per CheckInterval.
func (l *Limiter) Check() error {
	if l == nil {
		return nil
	}
	if q := l.queued.Load(); q >= l.soft {
		l.refused.Add(1)
		return fmt.Errorf("%w: %d MiB queued, above the soft limit of %d MiB; retry later", ErrFull, q>>20, l.soft>>20)
	}
	now := time.Now().UnixNano()
	if last := l.readAt.Load(); now-last >= int64(l.every) && l.readAt.CompareAndSwap(last, now) {
		l.lastHp.Store(l.heap())
	}
	if h := l.lastHp.Load(); h >= l.soft {
		l.refused.Add(1)
		return fmt.Errorf("%w: the heap holds %d MiB, above the soft limit of %d MiB; retry later", ErrFull, h>>20, l.soft>>20)
	}
	return nil
}

var heapSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

// goHeap is the bytes of the heap found live by the last collection: what
// seer holds, not the garbage the collector has not yet had to reclaim
// (with the runtime's memory limit set near memory.limit_bytes, garbage
// fills the heap up to it between collections; counting it would refuse
// data that a collection would make room for). Under memory pressure the
// collector runs often, so the figure is recent; what arrives between
// collections is counted by Add and Reserve.
func goHeap() int64 {
	s := make([]metrics.Sample, 1)
	copy(s, heapSample)
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
