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

func BenchmarkCheck(b *testing.B) {
	l, _ := New(DefaultConfig())
	b.ReportAllocs()
	for b.Loop() {
		l.Add(100)
		_ = l.Check()
		l.Done(100)
	}
}
