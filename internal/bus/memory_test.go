package bus

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func batch(entity string) *signal.Batch {
	return &signal.Batch{Samples: []signal.Sample{{Entity: entity, Name: "x", Value: 1}}}
}

func TestMemoryDeliversToEveryGroupOncePerBatch(t *testing.T) {
	f := func(cfg MemoryConfig) {
		t.Helper()
		m, err := NewMemory(cfg, discard)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var a, b atomic.Int64
		if err := m.Subscribe(Signals, "a", func(context.Context, *signal.Batch) error { a.Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := m.Subscribe(Signals, "b", func(context.Context, *signal.Batch) error { b.Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for i := range 1000 {
			if err := m.Publish(ctx, Signals, string(rune('a'+i%7)), batch("x")); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if a.Load() != 1000 || b.Load() != 1000 {
			t.Fatalf("sync=%v: group a got %d, b got %d, want 1000 each", cfg.Sync, a.Load(), b.Load())
		}
	}
	f(DefaultMemoryConfig())
	f(MemoryConfig{Sync: true})
	f(MemoryConfig{Partitions: 1, QueueSize: 1})
}

func TestMemoryKeepsKeyOrderWithinPartition(t *testing.T) {
	m, err := NewMemory(MemoryConfig{Partitions: 4, QueueSize: 8}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var mu sync.Mutex
	seen := map[string][]float64{}
	_ = m.Subscribe(Signals, "g", func(_ context.Context, b *signal.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		s := b.Samples[0]
		seen[s.Entity] = append(seen[s.Entity], s.Value)
		return nil
	})
	ctx := context.Background()
	for i := range 200 {
		for _, e := range []string{"db", "cart", "gateway"} {
			_ = m.Publish(ctx, Signals, e, &signal.Batch{Samples: []signal.Sample{{Entity: e, Value: float64(i)}}})
		}
	}
	_ = m.Flush(ctx)
	for e, vs := range seen {
		for i, v := range vs {
			if v != float64(i) {
				t.Fatalf("%s: batch %d has value %v: order within a key was not kept", e, i, v)
			}
		}
	}
}

func TestMemoryShedsWhenFullAndCountsIt(t *testing.T) {
	m, err := NewMemory(MemoryConfig{Partitions: 1, QueueSize: 1}, discard)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	_ = m.Subscribe(Signals, "slow", func(context.Context, *signal.Batch) error { <-release; return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var shed int
	for range 5 {
		if err := m.Publish(ctx, Signals, "k", batch("k")); errors.Is(err, ErrFull) {
			shed++
		}
	}
	close(release)
	_ = m.Flush(context.Background())
	_ = m.Close()
	st := m.Stats()
	if shed == 0 || st[0].Shed != int64(shed) {
		t.Fatalf("shed %d batches, stats say %d; want both > 0 and equal", shed, st[0].Shed)
	}
	if st[0].Handled+st[0].Shed != 5 {
		t.Fatalf("handled %d + shed %d != 5 published", st[0].Handled, st[0].Shed)
	}
}

func TestMemoryHandlerErrorsAreCounted(t *testing.T) {
	m, _ := NewMemory(MemoryConfig{Sync: true}, discard)
	defer m.Close()
	_ = m.Subscribe(Observations, "bad", func(context.Context, *signal.Batch) error { return errors.New("boom") })
	if err := m.Publish(context.Background(), Observations, "", batch("x")); err == nil {
		t.Fatal("sync publish to a failing handler returned no error")
	}
	if st := m.Stats(); st[0].Failed != 1 {
		t.Fatalf("failed = %d, want 1", st[0].Failed)
	}
}

func TestMemoryRejectsBadConfigAndUseAfterClose(t *testing.T) {
	if _, err := NewMemory(MemoryConfig{Partitions: 0, QueueSize: 0}, discard); err == nil {
		t.Fatal("zero partitions and queue size accepted")
	}
	m, _ := NewMemory(DefaultMemoryConfig(), discard)
	_ = m.Close()
	if err := m.Publish(context.Background(), Signals, "k", batch("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v, want ErrClosed", err)
	}
}

func TestMemoryFlushSeesCascadedPublishes(t *testing.T) {
	m, _ := NewMemory(DefaultMemoryConfig(), discard)
	defer m.Close()
	var got atomic.Int64
	_ = m.Subscribe(Signals, "detect", func(ctx context.Context, b *signal.Batch) error {
		return m.Publish(ctx, Observations, "", &signal.Batch{Observations: []signal.Observation{{Entity: b.Samples[0].Entity}}})
	})
	_ = m.Subscribe(Observations, "infer", func(context.Context, *signal.Batch) error { got.Add(1); return nil })
	for range 100 {
		_ = m.Publish(context.Background(), Signals, "k", batch("k"))
	}
	_ = m.Flush(context.Background())
	if got.Load() != 100 {
		t.Fatalf("after Flush inference saw %d observations batches, want 100", got.Load())
	}
}

func BenchmarkMemoryPublish(b *testing.B) {
	m, _ := NewMemory(DefaultMemoryConfig(), discard)
	defer m.Close()
	_ = m.Subscribe(Signals, "g", func(context.Context, *signal.Batch) error { return nil })
	bt := batch("x")
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = m.Publish(ctx, Signals, "entity", bt)
	}
	_ = m.Flush(ctx)
}
