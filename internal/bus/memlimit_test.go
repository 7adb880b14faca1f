package bus

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/signal"
)

// TestQueuedBytesCount: batches waiting for a consumer count against the
// memory limit until the consumer is done with them, so that receivers
// refuse new data while the queues hold too much.
func TestQueuedBytesCount(t *testing.T) {
	mem, err := memlimit.New(memlimit.Config{LimitBytes: 1 << 20, SpikeBytes: 1 << 18, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mem.SetHeap(func() int64 { return 0 })
	cfg := DefaultMemoryConfig()
	cfg.Partitions, cfg.QueueSize, cfg.Memory = 1, 1000, mem
	b, err := NewMemory(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	gate := make(chan struct{})
	if err := b.Subscribe(Signals, "slow", func(context.Context, *signal.Batch) error { <-gate; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	batch := &signal.Batch{}
	for i := range 100 {
		batch.Logs = append(batch.Logs, signal.LogRecord{Entity: "cart", Body: string(make([]byte, 1000+i))})
	}
	n := 0
	for mem.Check() == nil {
		if err := b.Publish(ctx, Signals, "cart", batch); err != nil {
			t.Fatal(err)
		}
		n++
		if n > 100 {
			t.Fatalf("%d batches of %d bytes queued and the limit not reached (%d counted)", n, batch.Bytes(), mem.Queued())
		}
	}
	if mem.Queued() < 3<<18 {
		t.Errorf("refused at %d bytes, below the soft limit", mem.Queued())
	}
	close(gate)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if q := mem.Queued(); q != 0 || mem.Check() != nil {
		t.Errorf("%d bytes still counted after the queue drained (%v)", q, mem.Check())
	}
}
