package infer

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// Deriver turns log records into per-bucket error-line rates per service
// (signal.SeriesLogErrors) that an investigation scores like metrics; the
// series of traces come from the trace stage, which assembles them. It is
// safe for concurrent use.
type Deriver struct {
	mu     sync.Mutex
	bucket time.Duration
	// logs counts, per bucket, the error lines of every service that
	// logged in it (0 for one that logged no error: a baseline too).
	logs   map[int64]map[string]float64
	newest time.Time // the newest log time added
}

// NewDeriver returns a Deriver with buckets of the given width (0: a
// minute).
func NewDeriver(bucket time.Duration) *Deriver {
	if bucket <= 0 {
		bucket = time.Minute
	}
	return &Deriver{bucket: bucket, logs: map[int64]map[string]float64{}}
}

func (d *Deriver) key(t time.Time) int64 { return t.Truncate(d.bucket).UnixNano() }

// AddLogs counts the records per service and bucket.
func (d *Deriver) AddLogs(logs []signal.LogRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range logs {
		svc := rca.Service(l.Entity)
		if svc == "" {
			continue
		}
		if l.Time.After(d.newest) {
			d.newest = l.Time
		}
		k := d.key(l.Time)
		if d.logs[k] == nil {
			d.logs[k] = map[string]float64{}
		}
		n := d.logs[k][svc]
		if l.Severity.AtLeast(signal.SeverityError) {
			n++
		}
		d.logs[k][svc] = n // present, 0 or more
	}
}

// Newest is the newest log time added: the derived series' clock.
func (d *Deriver) Newest() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.newest
}

// Flush derives the series of every bucket that closed by now (half a
// bucket after its end; all of them when now is zero) and forgets those
// buckets. Samples are stamped at their bucket's start.
func (d *Deriver) Flush(now time.Time) []signal.Sample {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []signal.Sample
	for _, k := range slices.Sorted(maps.Keys(d.logs)) {
		if !now.IsZero() && time.Unix(0, k).Add(d.bucket+d.bucket/2).After(now) {
			break
		}
		t := time.Unix(0, k).UTC()
		for _, svc := range slices.Sorted(maps.Keys(d.logs[k])) {
			out = append(out, signal.Sample{Time: t, Entity: svc, Name: signal.SeriesLogErrors, Value: d.logs[k][svc] / d.bucket.Seconds()})
		}
		delete(d.logs, k)
	}
	return out
}
