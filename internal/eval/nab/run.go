package nab

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/seerops/seer/internal/detect/metric"
)

// Detector scores one series causally: it is called once per row, in order,
// and returns the row's anomaly score before it sees the next.
type Detector func(t time.Time, v float64) float64

// MetricDetector returns a factory of seer's production metric detector
// with cfg, wrapped in NAB's alerting with a (see Alerter): the row score is
// the alert strength.
//
// NAB charges every row scored at or above its threshold outside a window
// as a false positive, so a detector must score as it alerts: once per
// anomaly, not on every row of it. Result.Score stays high for as long as a
// series is out of range (which is right for a range check), so it is not
// the row score. Production acts once per anomalous run (the Stage emits
// one observation when a run starts, then at most one per Repeat); the
// Alerter is the threshold-free form of that. Nothing in the mapping
// depends on the file: one configuration, no look-ahead, no knowledge of
// the series' length.
func MetricDetector(cfg metric.Config, a AlertConfig) (func() Detector, error) {
	if _, err := NewAlerter(cfg, a); err != nil {
		return nil, err
	}
	return func() Detector {
		al, _ := NewAlerter(cfg, a) // validated above
		return func(t time.Time, v float64) float64 {
			_, s := al.Observe(t, v)
			return s
		}
	}, nil
}

// Run scores every series with a fresh detector from newDetector, running
// up to workers series at once (GOMAXPROCS when workers < 1). It returns the
// files in the order of series and stops early when ctx is done.
func Run(ctx context.Context, series []Series, newDetector func() Detector, workers int) ([]File, error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(series), 1))
	out := make([]File, len(series))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				out[i] = runOne(ctx, series[i], newDetector())
			}
		})
	}
feed:
	for i := range series {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nab: running the detector: %w", err)
	}
	return out, nil
}

// cancelEvery is how many rows a worker scores between looks at ctx.
const cancelEvery = 4096

func runOne(ctx context.Context, s Series, d Detector) File {
	f := File{Name: s.Name, Times: s.Times, Scores: make([]float64, len(s.Values))}
	for i, v := range s.Values {
		if i%cancelEvery == 0 && ctx.Err() != nil {
			return f
		}
		f.Scores[i] = d(s.Times[i], v)
	}
	return f
}
