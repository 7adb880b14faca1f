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

// DefaultConfig limits seer to 1 GiB, refusing new data above 768 MiB.
func DefaultConfig() Config {
	return Config{LimitBytes: 1 << 30, SpikeBytes: 256 << 20, CheckInterval: 100 * time.Millisecond}
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

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// goHeap is the bytes of heap objects, live or not yet swept.
func goHeap() int64 {
	s := make([]metrics.Sample, 1)
	copy(s, heapSample)
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
