package trace

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// BenchmarkProcessTick pushes shop traces through Process and Tick, one
// simulated second (5,000 traces, ~37,000 spans) per iteration.
func BenchmarkProcessTick(b *testing.B) {
	g := newShop(1)
	// Pre-generate a minute of traffic; iterations replay it shifted in time.
	const perSec = 5000
	var secs [][]signal.Span
	for i := range 60 {
		var batch []signal.Span
		for j := range perSec {
			batch = append(batch, g.trace(t0.Add(time.Duration(i)*time.Second+time.Duration(j)*time.Second/perSec))...)
		}
		secs = append(secs, batch)
	}
	s := NewStage(Config{}, nil)
	buf := make([]signal.Span, 0, len(secs[0])*2)
	spans := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		shift := time.Duration(i/60) * time.Minute
		buf = buf[:0]
		for _, x := range secs[i%60] {
			x.Start = x.Start.Add(shift)
			x.TraceID = fmt.Sprint(i/60, x.TraceID)
			buf = append(buf, x)
		}
		b.StartTimer()
		s.Process(buf)
		s.Tick(t0.Add(shift + time.Duration(i%60+1)*time.Second))
		spans += len(buf)
	}
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkMemoryPerTrace measures the heap held per buffered trace of the
// shop (7 spans).
func BenchmarkMemoryPerTrace(b *testing.B) {
	g := newShop(1)
	const n = 20000
	traces := make([][]signal.Span, n)
	for i := range traces {
		traces[i] = g.trace(t0)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := NewStage(Config{}, nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, t := range traces {
			s.Process(t)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/trace")
		runtime.KeepAlive(s)
	}
}

func FuzzProcess(f *testing.F) {
	f.Add("t", "a", "", "svc", "op", "server", int64(0), int64(1e6), "ok", "peer.service", "db", int64(3e9))
	f.Add("t", "a", "a", "svc", "", "client", int64(-5), int64(-1), "error", "error.type", "x", int64(-1))
	f.Add("t", "b", "a", "db", "q", "client", int64(1<<62), int64(1<<62), "error", "peer.service", "svc", int64(1<<40))
	f.Fuzz(func(t *testing.T, tid, id, parent, svc, op, kind string, startNs, durNs int64, status, ak, av string, tickNs int64) {
		s := NewStage(Config{MaxTraces: 4, MaxSpansPerTrace: 4, WarmupWindows: 1, MinSamples: 1}, nil)
		var spans []signal.Span
		for i := range 6 {
			spans = append(spans, signal.Span{
				TraceID: tid, SpanID: fmt.Sprint(id, i%3), ParentID: parent, Service: svc, Operation: op,
				Kind: signal.SpanKind(kind), Start: t0.Add(time.Duration(startNs) + time.Duration(i)*time.Millisecond),
				Duration: time.Duration(durNs), Status: signal.Status(status), Attrs: map[string]string{ak: av},
			})
		}
		for i := range 3 {
			s.Process(spans)
			for _, o := range s.Tick(t0.Add(time.Duration(tickNs) + time.Duration(i)*time.Minute)) {
				if o.Score < 0 || o.Score > 1 || o.Entity == "" {
					t.Fatalf("bad observation %+v", o)
				}
			}
		}
		st := s.Stats()
		var rej, shed int64
		for _, v := range st.Rejected {
			rej += v
		}
		for _, v := range st.Shed {
			shed += v
		}
		if st.SpansAccepted+rej+shed != 18 || st.BufferedSpans > 16 || st.ActiveTraces > 4 {
			t.Fatalf("counts do not add up: %+v", st)
		}
		_ = s.Topology()
	})
}
