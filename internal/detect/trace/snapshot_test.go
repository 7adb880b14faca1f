package trace

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// quiesce moves w on by n steps without feeding s, ticking s, so that every
// trace buffered completes and every open window closes: a snapshot taken
// then holds all the stage knows.
func quiesce(w *sim.World, s *Stage, n int) {
	for range n {
		w.Step()
		s.Tick(w.Now())
	}
}

// TestSnapshotRestoresTheStage: a stage restored from a snapshot saves the
// same snapshot again, and goes on to report the same findings, suspects
// and topology as the one that never stopped; a fresh stage given the same
// spans does not (the snapshot is what makes the difference).
func TestSnapshotRestoresTheStage(t *testing.T) {
	w := newWorld(t, 3)
	st := NewStage(Config{}, nil)
	advance(w, st, 10*60)
	quiesce(w, st, 90)
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := NewStage(Config{}, nil)
	back.Process([]signal.Span{sp("x", "x", "", "gone", "op", 0, 1)}) // replaced by the restore
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	again, err := back.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Fatalf("the restored stage saves %d bytes, not the %d it was restored from", len(again), len(data))
	}
	if a, b := st.Stats(), back.Stats(); a.Series != b.Series || a.Edges != b.Edges || a.Fingerprints != b.Fingerprints || a.Steps != b.Steps || b.BufferedSpans != 0 {
		t.Fatalf("restored %+v, saved %+v", b, a)
	}
	if a, b := st.Topology(), back.Topology(); !reflect.DeepEqual(a, b) {
		t.Fatalf("topology after the restore %+v, want %+v", b, a)
	}

	// The same spans after it, with a latency fault, give the same
	// findings; a stage that starts afresh finds none of them.
	fresh := NewStage(Config{}, nil)
	if err := w.Inject(sim.Fault{Kind: sim.FaultLatency, Target: "db", Start: w.Now()}); err != nil {
		t.Fatal(err)
	}
	var a, b, f []signal.Observation
	for range 120 {
		batch := w.Step()
		st.Process(batch.Spans)
		back.Process(batch.Spans)
		fresh.Process(batch.Spans)
		a = append(a, st.Tick(w.Now())...)
		b = append(b, back.Tick(w.Now())...)
		f = append(f, fresh.Tick(w.Now())...)
	}
	latency := func(obs []signal.Observation) int {
		n := 0
		for _, o := range obs {
			if o.Kind == signal.TraceLatency {
				n++
			}
		}
		return n
	}
	if latency(a) == 0 {
		t.Fatalf("the stage that ran on found no latency in a latency fault: %v", a)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("after the restore: %d findings %v\nwant the %d of the stage that ran on: %v", len(b), b, len(a), a)
	}
	if n := latency(f); n != 0 {
		t.Errorf("a fresh stage found %d latency findings without a baseline: the test proves nothing", n)
	}
	if sa, sb := st.Localize(w.Now()), back.Localize(w.Now()); len(sa) == 0 || !reflect.DeepEqual(sa, sb) {
		t.Errorf("suspects after the restore %v, want %v", sb, sa)
	}
}

// TestSnapshotCoversEveryField guards the visit methods: a field added to
// a type saved field by field must be added to its visit method (and the
// count here), or a restart loses it silently. Stage's fields are the
// learned ones visit lists and the rest (configuration, what is in flight,
// scratch), which UnmarshalBinary keeps or clears.
func TestSnapshotCoversEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{
		{series{}, 14}, {fingerprint{}, 5}, {step{}, 7}, {alert{}, 3}, {qsketch{}, 2},
		{edge{}, 6}, {svcLoc{}, 7}, {locSlot{}, 8}, {Stage{}, 45},
	} {
		if got := reflect.TypeOf(c.v).NumField(); got != c.want {
			t.Errorf("%T has %d fields, its visit method knows %d", c.v, got, c.want)
		}
	}
}

// snapshotOf is the snapshot of a stage fed steps seconds of the shop.
func snapshotOf(t testing.TB, cfg Config, steps int) []byte {
	t.Helper()
	st := NewStage(cfg, nil)
	advance(newWorld(t, 1), st, steps)
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	data := snapshotOf(t, Config{}, 240)
	other := Config{LatencyZ: 4}
	corrupt := func(at int) []byte {
		b := bytes.Clone(data)
		b[at] ^= 0xff
		return b
	}
	for name, c := range map[string]struct {
		cfg  Config
		data []byte
	}{
		"garbage":          {Config{}, []byte("garbage")},
		"empty":            {Config{}, nil},
		"other version":    {Config{}, append([]byte("SEERTRC\x00"), data[len(snapshotMagic):]...)},
		"truncated":        {Config{}, data[:len(data)-9]},
		"trailing":         {Config{}, append(bytes.Clone(data), 0)},
		"configured apart": {other, data},
		"huge length":      {Config{}, append([]byte(snapshotMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)},
		"corrupt config":   {Config{}, corrupt(len(snapshotMagic) + 20)},
		"corrupt series":   {Config{}, corrupt(len(data) - len(data)/3)},
	} {
		s := NewStage(c.cfg, nil)
		advance(newWorld(t, 2), s, 30)
		before := s.Stats()
		err := s.UnmarshalBinary(c.data)
		if name == "corrupt series" && err == nil {
			continue // a flipped count can be a valid one
		}
		if !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: %v, want an ErrSnapshot", name, err)
		}
		if after := s.Stats(); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: a failed restore changed the stage: %+v, was %+v", name, after, before)
		}
	}
}

// FuzzSnapshot: whatever the bytes, UnmarshalBinary errs or restores a
// stage that saves again and keeps working; it never panics nor allocates
// more than its bounds.
func FuzzSnapshot(f *testing.F) {
	cfg := Config{MaxSeries: 16, MaxEdges: 8, MaxSteps: 4, MaxFieldLen: 64, WarmupWindows: 2, StructWarmup: 5}
	// A short history keeps the seed small (a few kB), for speed; its
	// windows, sketches and fingerprints have every kind of field.
	f.Add(snapshotOf(f, cfg, 20))
	f.Add([]byte(snapshotMagic))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewStage(cfg, nil)
		if err := s.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v is not an ErrSnapshot", err)
			}
			return
		}
		st := s.Stats()
		if st.Series > 16 || st.Edges > 8 {
			t.Fatalf("restored past the bounds: %+v", st)
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := NewStage(cfg, nil).UnmarshalBinary(again); err != nil {
			t.Fatalf("a restored stage saved what it cannot restore: %v", err)
		}
		now := time.Unix(0, max(s.lastNow, t0.UnixNano())).Add(time.Minute)
		s.Process([]signal.Span{sp("t", "a", "", "frontend", "GET /", 0, 10)})
		for i := range 3 {
			s.Tick(now.Add(time.Duration(i) * time.Minute))
		}
		_ = s.Topology()
		_ = s.Localize(now)
		_ = fmt.Sprint(s.Stats())
	})
}

// BenchmarkSnapshot saves the stage of a simulated shop warmed for ten
// minutes (its operations, call pairs, fingerprints and localisation).
func BenchmarkSnapshot(b *testing.B) {
	st := NewStage(Config{}, nil)
	advance(newWorld(b, 1), st, 10*60)
	var n int
	for b.Loop() {
		data, err := st.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "bytes")
	b.ReportMetric(float64(n)/float64(st.Stats().Series), "bytes/series")
}
