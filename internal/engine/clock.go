package engine

import (
	"sync/atomic"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// dataLag is how far the engine's clock may run ahead of the newest signal
// it has been given.
const dataLag = 30 * time.Second

// dataClock tracks the newest timestamp among the signals ingested, so that
// a live engine ticks its stages on the data's time, not the wall's, when
// the two part: a collector replaying a backlog, an exporter that buffered
// through an outage, a simulator backfilling history. Windows and baselines
// then see the data as it happened instead of a long silence and a flood.
type dataClock struct{ newest atomic.Int64 } // unix nanoseconds; 0 before any signal

// observe notes the newest time in b.
func (c *dataClock) observe(b *signal.Batch) {
	var t int64
	note := func(x time.Time) {
		if n := x.UnixNano(); n > t {
			t = n
		}
	}
	for i := range b.Samples {
		note(b.Samples[i].Time)
	}
	for i := range b.Logs {
		note(b.Logs[i].Time)
	}
	for i := range b.Spans {
		note(b.Spans[i].End())
	}
	for i := range b.Events {
		note(b.Events[i].Time)
	}
	for {
		old := c.newest.Load()
		if t <= old || c.newest.CompareAndSwap(old, t) {
			return
		}
	}
}

// now is the time to tick the stages at: the wall clock while the data keeps
// up with it, else the newest signal's time plus dataLag. A signal stamped
// in the future cannot pull the clock past the wall.
func (c *dataClock) now(wall time.Time) time.Time {
	n := c.newest.Load()
	if n == 0 {
		return wall
	}
	if data := time.Unix(0, n).Add(dataLag); data.Before(wall) {
		return data
	}
	return wall
}
