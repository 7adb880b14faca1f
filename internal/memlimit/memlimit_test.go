package memlimit

import (
	"errors"
	"testing"
	"time"
)

func TestLimiterRefusesAboveItsLimitAndRecovers(t *testing.T) {
	l, err := New(Config{LimitBytes: 1000, SpikeBytes: 200, CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	heap := int64(0)
	l.SetHeap(func() int64 { return heap })
	check := func(what string, wantFull bool) {
		t.Helper()
		err := l.Check()
		if got := errors.Is(err, ErrFull); got != wantFull {
			t.Errorf("%s: Check() = %v, want full %v", what, err, wantFull)
		}
	}
	check("empty", false)
	l.Add(799)
	check("just below the soft limit", false)
	l.Add(1)
	check("at the soft limit", true)
	l.Done(400)
	check("drained", false)
	heap = 900
	time.Sleep(time.Millisecond) // past the check interval
	check("the heap above the soft limit", true)
	heap = 100
	time.Sleep(time.Millisecond)
	check("the heap collected", false)
	if l.Refused() != 2 || l.Queued() != 400 {
		t.Errorf("refused %d, queued %d; want 2 and 400", l.Refused(), l.Queued())
	}
}

// TestReserve: a reservation that would take what is held (queued bytes or
// the heap, whichever is more) above the soft limit is refused and leaves
// nothing counted; a request alone is let in whatever its size.
func TestReserve(t *testing.T) {
	l, err := New(Config{LimitBytes: 1000, SpikeBytes: 200, CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	heap := int64(0)
	l.SetHeap(func() int64 { return heap })
	if err := l.Reserve(5000, 0); err != nil {
		t.Errorf("a lone reservation of 5000 was refused: %v", err)
	}
	l.Done(5000)
	l.Add(300) // a body read
	if err := l.Reserve(5000, 300); err != nil {
		t.Errorf("a reservation of 5000 for the only body held was refused: %v", err)
	}
	l.Done(5000)
	if err := l.Reserve(5000, 200); !errors.Is(err, ErrFull) {
		t.Errorf("a reservation of 5000 with 100 bytes held by others: %v, want ErrFull", err)
	}
	if err := l.Reserve(500, 0); err != nil {
		t.Errorf("300 held + 500 = 800, at the soft limit: refused: %v", err)
	}
	if err := l.Reserve(1, 0); !errors.Is(err, ErrFull) {
		t.Errorf("801 held: Reserve(1) = %v, want ErrFull", err)
	}
	if q := l.Queued(); q != 800 {
		t.Errorf("queued %d after a refused reservation, want 800", q)
	}
	l.Done(800)
	heap = 700
	if err := l.Check(); err != nil { // reads the heap
		t.Fatal(err)
	}
	l.Add(10)
	if err := l.Reserve(200, 0); !errors.Is(err, ErrFull) {
		t.Errorf("a heap of 700 + 200: Reserve = %v, want ErrFull", err)
	}
	if err := l.Reserve(90, 0); err != nil {
		t.Errorf("a heap of 700 + 90: refused: %v", err)
	}
	if l.Refused() != 3 {
		t.Errorf("refused %d, want 3", l.Refused())
	}
}

func TestNilLimiterLimitsNothing(t *testing.T) {
	l, err := New(Config{})
	if err != nil || l != nil {
		t.Fatalf("New(off) = %v, %v", l, err)
	}
	l.Add(1 << 40)
	if err := l.Check(); err != nil {
		t.Errorf("a nil limiter refused: %v", err)
	}
}

func TestValidate(t *testing.T) {
	f := func(c Config, bad bool) {
		t.Helper()
		if err := c.Validate(); (err != nil) != bad {
			t.Errorf("Validate(%+v) = %v, want error %v", c, err, bad)
		}
	}
	f(DefaultConfig(), false)
	f(Config{}, false)
	f(Config{LimitBytes: -1}, true)
	f(Config{LimitBytes: 100, SpikeBytes: 100, CheckInterval: time.Second}, true)
	f(Config{LimitBytes: 100, SpikeBytes: 10}, true)
}

func TestRuntimeLimitLeavesRoomForTheExecutable(t *testing.T) {
	for _, c := range []struct {
		cfg       Config
		exe, want int64
	}{
		{DefaultConfig(), 40 << 20, 1024<<20 - 40<<20 - 128<<20},
		{Config{LimitBytes: 512 << 20, SpikeBytes: 192 << 20}, 40 << 20, 512<<20 - 40<<20 - 64<<20},
		// A large binary under a small limit: no lower than the soft limit.
		{Config{LimitBytes: 128 << 20, SpikeBytes: 32 << 20}, 60 << 20, 96 << 20},
		{Config{}, 40 << 20, 0},
	} {
		if got := RuntimeLimit(c.cfg, c.exe); got != c.want {
			t.Errorf("RuntimeLimit(%d MiB, exe %d MiB) = %d MiB, want %d MiB", c.cfg.LimitBytes>>20, c.exe>>20, got>>20, c.want>>20)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	l, _ := New(DefaultConfig())
	b.ReportAllocs()
	for b.Loop() {
		l.Add(100)
		_ = l.Check()
		l.Done(100)
	}
}
