package metric

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// feed sends n points from i0 of a seasonal latency, a noisy CPU ratio, a
// ramping memory and a labelled disk series of two entities.
func feed(st *Stage, rng *rand.Rand, i0, n int) []signal.Observation {
	var out []signal.Observation
	for i := i0; i < i0+n; i++ {
		day := math.Sin(2 * math.Pi * float64(i) / 288)
		out = append(out, st.Process([]signal.Sample{
			sample("cart", "http_server_request_duration_seconds_p99", i, 0.1*(1+0.3*day)*(1+0.05*rng.NormFloat64())),
			sample("cart", "process_cpu_utilization", i, 0.4*(1+0.1*rng.NormFloat64())),
			sample("db", "memory_utilization", i, 0.3+0.0005*float64(i)+0.01*rng.NormFloat64()),
			{Time: at(i), Entity: "db", Name: "node_filesystem_utilization", Labels: map[string]string{"mountpoint": "/data"}, Value: 0.5 + 0.02*rng.NormFloat64()},
		})...)
	}
	return out
}

// TestSnapshotRestoresTheStage: a stage restored from a snapshot holds the
// same state as the one saved, field for field, and goes on to report the
// same observations as the one that never stopped.
func TestSnapshotRestoresTheStage(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	st := NewStage(DefaultConfig(), nil)
	feed(st, rng, 0, 1000)
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := NewStage(DefaultConfig(), nil)
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if len(back.series) != 4 || !reflect.DeepEqual(st.series, back.series) || !reflect.DeepEqual(st.perEntity, back.perEntity) {
		t.Fatalf("restored %d series, not the same as the %d saved", len(back.series), len(st.series))
	}
	// The same points after it, with a step in the CPU, give the same
	// findings.
	seed := rand.New(rand.NewSource(2))
	a, b := feed(st, seed, 1000, 50), feed(back, rand.New(rand.NewSource(2)), 1000, 50)
	a = append(a, st.Process([]signal.Sample{sample("cart", "process_cpu_utilization", 1050, 1)})...)
	b = append(b, back.Process([]signal.Sample{sample("cart", "process_cpu_utilization", 1050, 1)})...)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("after the restore: %d findings %v, want the %d of the stage that ran on: %v", len(b), b, len(a), a)
	}
}

// TestSnapshotCoversEveryField guards the visit methods: a field added to
// a type saved field by field must be added to its visit method (and the
// count here), or a restart loses it silently.
func TestSnapshotCoversEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{{Detector{}, 43}, {season{}, 18}, {window{}, 19}, {series{}, 13}, {tail{}, 3}, {run{}, 3}} {
		if got := reflect.TypeOf(c.v).NumField(); got != c.want {
			t.Errorf("%T has %d fields, its visit method knows %d", c.v, got, c.want)
		}
	}
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	feed(st, rand.New(rand.NewSource(1)), 0, 100)
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	other := DefaultConfig()
	other.Threshold = 0.9
	for name, c := range map[string]struct {
		cfg  Config
		data []byte
	}{
		"garbage":          {DefaultConfig(), []byte("garbage")},
		"truncated":        {DefaultConfig(), data[:len(data)-9]},
		"trailing":         {DefaultConfig(), append(append([]byte{}, data...), 0)},
		"configured apart": {other, data},
		"huge length":      {DefaultConfig(), append([]byte(snapshotMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)},
	} {
		s := NewStage(c.cfg, nil)
		feed(s, rand.New(rand.NewSource(3)), 0, 10)
		if err := s.UnmarshalBinary(c.data); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: %v, want an ErrSnapshot", name, err)
		}
		if len(s.series) != 4 {
			t.Errorf("%s: a failed restore changed the stage (%d series)", name, len(s.series))
		}
	}
}

// BenchmarkSnapshot saves a stage of 1,000 warmed series (the default
// configuration: seasonality and, where the meaning asks, forecasts).
func BenchmarkSnapshot(b *testing.B) {
	st := NewStage(DefaultConfig(), nil)
	rng := rand.New(rand.NewSource(1))
	for i := range 600 {
		var batch []signal.Sample
		for k := range 500 {
			batch = append(batch,
				sample(fmt.Sprint("svc", k), "http_server_request_duration_seconds_p99", i, 0.1*(1+0.05*rng.NormFloat64())),
				sample(fmt.Sprint("svc", k), "memory_utilization", i, 0.5*(1+0.05*rng.NormFloat64())))
		}
		st.Process(batch)
	}
	var n int
	for b.Loop() {
		data, err := st.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n)/1000, "bytes/series")
}

// FuzzSnapshot: whatever the file holds, restoring it is an ErrSnapshot or
// a stage within its bounds that saves what it can restore again.
func FuzzSnapshot(f *testing.F) {
	cfg := DefaultConfig()
	cfg.MaxSeries = 8
	st := NewStage(cfg, nil)
	feed(st, rand.New(rand.NewSource(1)), 0, 40)
	seed, err := st.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
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
		if len(s.series) > cfg.MaxSeries {
			t.Fatalf("restored %d series past the bound %d", len(s.series), cfg.MaxSeries)
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := NewStage(cfg, nil).UnmarshalBinary(again); err != nil {
			t.Fatalf("a restored stage saved what it cannot restore: %v", err)
		}
		s.Process([]signal.Sample{sample("cart", "process_cpu_utilization", 1000, 0.5)})
	})
}
