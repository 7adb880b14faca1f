package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/signal"
)

// MemoryConfig configures the in-process bus.
type MemoryConfig struct {
	// Sync delivers every batch inside Publish, on the publisher's goroutine,
	// in subscription order. Simulations and evaluations use it so that a run
	// is deterministic; a live engine uses queues.
	Sync bool `yaml:"sync"`
	// Partitions is the number of partitions of each topic, and so of
	// goroutines per consumer group. Topics listed in SinglePartition get one.
	Partitions int `yaml:"partitions"`
	// QueueSize is the number of batches each partition queues before
	// Publish blocks.
	QueueSize int `yaml:"queue_size"`
	// SinglePartition lists topics whose consumers need one ordered view of
	// every batch (inference correlates across entities).
	SinglePartition []Topic `yaml:"single_partition"`
	// Memory, when set, counts the bytes of every queued batch (an
	// estimate, signal.Batch.Bytes) until its consumer is done with it, so
	// that receivers refuse new data while the queues hold too much.
	Memory *memlimit.Limiter `yaml:"-"`
}

// DefaultMemoryConfig is a partition per CPU, 1024 batches each, and a single
// partition for observations.
func DefaultMemoryConfig() MemoryConfig {
	return MemoryConfig{
		Partitions:      runtime.GOMAXPROCS(0),
		QueueSize:       1024,
		SinglePartition: []Topic{Observations},
	}
}

// Validate reports every problem with c.
func (c MemoryConfig) Validate() error {
	var errs []error
	if !c.Sync && c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("bus.partitions must be at least 1, got %d", c.Partitions))
	}
	if !c.Sync && c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("bus.queue_size must be at least 1, got %d", c.QueueSize))
	}
	return errors.Join(errs...)
}

// Memory is the in-process Bus: bounded queues, one goroutine per partition
// and consumer group.
type Memory struct {
	cfg    MemoryConfig
	logger *slog.Logger

	mu     sync.RWMutex
	topics map[Topic]*topic
	closed bool

	pending inflight // deliveries queued or running, for Flush
	workers sync.WaitGroup
}

type topic struct {
	name       Topic
	partitions int
	groups     []*group
	published  atomic.Int64
	shed       atomic.Int64
}

type group struct {
	name    string
	handler Handler
	queues  []chan delivery
	handled atomic.Int64
	failed  atomic.Int64
}

type delivery struct {
	ctx  context.Context
	b    *signal.Batch
	size int64 // bytes counted against the memory limit
}

var _ Bus = (*Memory)(nil)

// NewMemory returns an in-process bus. Close stops it.
func NewMemory(cfg MemoryConfig, logger *slog.Logger) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Memory{cfg: cfg, logger: logger.With("component", "bus"), topics: make(map[Topic]*topic)}, nil
}

func (m *Memory) topic(name Topic) *topic {
	t, ok := m.topics[name]
	if !ok {
		n := m.cfg.Partitions
		for _, s := range m.cfg.SinglePartition {
			if s == name {
				n = 1
			}
		}
		t = &topic{name: name, partitions: n}
		m.topics[name] = t
	}
	return t
}

// Subscribe implements Bus.
func (m *Memory) Subscribe(name Topic, groupName string, h Handler) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	t := m.topic(name)
	for _, g := range t.groups {
		if g.name == groupName {
			return fmt.Errorf("bus: group %q already subscribed to %q", groupName, name)
		}
	}
	g := &group{name: groupName, handler: h}
	t.groups = append(t.groups, g)
	if m.cfg.Sync {
		return nil
	}
	g.queues = make([]chan delivery, t.partitions)
	for i := range g.queues {
		q := make(chan delivery, m.cfg.QueueSize)
		g.queues[i] = q
		m.workers.Add(1)
		go m.work(t, g, q)
	}
	return nil
}

func (m *Memory) work(t *topic, g *group, q chan delivery) {
	defer m.workers.Done()
	for d := range q {
		m.handle(t, g, d.ctx, d.b)
		m.cfg.Memory.Done(d.size)
		m.pending.add(-1)
	}
}

func (m *Memory) handle(t *topic, g *group, ctx context.Context, b *signal.Batch) {
	if err := g.handler(ctx, b); err != nil {
		g.failed.Add(1)
		m.logger.Warn("consumer failed", "topic", t.name, "group", g.name, "err", err)
		return
	}
	g.handled.Add(1)
}

// Publish implements Bus.
func (m *Memory) Publish(ctx context.Context, name Topic, key string, b *signal.Batch) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	t := m.topic(name)
	t.published.Add(1)
	if m.cfg.Sync {
		var errs []error
		for _, g := range t.groups {
			if err := g.handler(ctx, b); err != nil {
				g.failed.Add(1)
				errs = append(errs, fmt.Errorf("%s/%s: %w", name, g.name, err))
				continue
			}
			g.handled.Add(1)
		}
		return errors.Join(errs...)
	}
	p := partition(key, t.partitions)
	// The consumer's context is detached from the publisher's: an HTTP
	// request that published a batch may end before the batch is consumed.
	cctx := context.WithoutCancel(ctx)
	var size int64
	if m.cfg.Memory != nil {
		size = b.Bytes()
	}
	for _, g := range t.groups {
		m.pending.add(1)
		m.cfg.Memory.Add(size)
		select {
		case g.queues[p] <- delivery{ctx: cctx, b: b, size: size}:
		case <-ctx.Done():
			m.cfg.Memory.Done(size)
			m.pending.add(-1)
			t.shed.Add(1)
			return ErrFull
		}
	}
	return nil
}

func partition(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// Flush waits until every batch published so far, and every batch those
// deliveries published in turn, has been consumed, or ctx ends.
func (m *Memory) Flush(ctx context.Context) error {
	if err := m.pending.wait(ctx); err != nil {
		return fmt.Errorf("flushing the bus: %w", err)
	}
	return nil
}

// inflight counts deliveries not yet consumed. Unlike a sync.WaitGroup it may
// be waited on while publishers add to it.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0; replaced when n leaves 0
}

func (f *inflight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idle == nil {
		f.idle = make(chan struct{})
		close(f.idle)
	}
	if f.n == 0 && d > 0 {
		f.idle = make(chan struct{})
	}
	f.n += d
	if f.n == 0 {
		close(f.idle)
	}
}

func (f *inflight) wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		if f.n == 0 {
			f.mu.Unlock()
			return nil
		}
		idle := f.idle
		f.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops accepting batches, drains the queues and stops the workers.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	for _, t := range m.topics {
		for _, g := range t.groups {
			for _, q := range g.queues {
				close(q)
			}
		}
	}
	m.mu.Unlock()
	m.workers.Wait()
	return nil
}

// GroupStats are the counters of one consumer group of one topic.
type GroupStats struct {
	Topic      Topic
	Group      string
	Published  int64 // batches published to the topic
	Shed       int64 // batches the topic shed because a queue stayed full
	Handled    int64 // batches this group consumed
	Failed     int64 // batches whose handler returned an error
	QueueDepth int   // batches waiting in this group's queues
}

// Stats returns the counters of every topic and group, sorted.
func (m *Memory) Stats() []GroupStats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []GroupStats
	for _, t := range m.topics {
		for _, g := range t.groups {
			depth := 0
			for _, q := range g.queues {
				depth += len(q)
			}
			out = append(out, GroupStats{
				Topic: t.name, Group: g.name,
				Published: t.published.Load(), Shed: t.shed.Load(),
				Handled: g.handled.Load(), Failed: g.failed.Load(),
				QueueDepth: depth,
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Group < out[j].Group
	})
	return out
}
