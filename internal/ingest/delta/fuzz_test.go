package delta

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzHistogram feeds arbitrary bounds, counts and times to the histogram
// and counter deltas: no panic, and a window, when there is one, has a
// positive length and no negative count.
func FuzzHistogram(f *testing.F) {
	le := func(xs ...float64) []byte {
		var b []byte
		for _, x := range xs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	f.Add(le(1, 2), le(1, 1, 1), le(2, 3, 4), int64(0), int64(10))
	f.Add(le(), le(5), le(3), int64(10), int64(5))
	f.Add(le(math.NaN()), le(math.Inf(1), 0), le(0, -1), int64(1), int64(2))
	floats := func(b []byte) []float64 {
		var out []float64
		for len(b) >= 8 && len(out) < 64 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		}
		return out
	}
	f.Fuzz(func(t *testing.T, bounds, c1, c2 []byte, t1, t2 int64) {
		tr := New(DefaultConfig())
		b, first, second := floats(bounds), floats(c1), floats(c2)
		at1, at2 := time.Unix(0, t1), time.Unix(0, t2)
		tr.Histogram("h", at1, time.Time{}, b, first, 1)
		w, ok := tr.Histogram("h", at2, time.Time{}, b, second, 2)
		if ok {
			if !(w.Seconds > 0) || w.Count < 0 {
				t.Fatalf("window %+v from %v, %v, %v", w, b, first, second)
			}
			for _, c := range w.Counts {
				if c < 0 {
					t.Fatalf("negative bucket count in %+v", w)
				}
			}
			_ = w.Quantile(0.99)
		}
		_ = Quantile(0.5, b, second)
		for i, v := range first {
			tr.Rate("c", at1.Add(time.Duration(i)), v, time.Time{})
		}
	})
}
