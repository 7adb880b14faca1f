package tsad

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Detector scores one entity causally: it is called once per row, train
// rows first, in time order, and returns the row's score before it sees the
// next.
type Detector interface {
	Observe(row []float64) float64
}

// Run scores every entity's test rows with a fresh detector from
// newDetector (given the entity's number of metrics), after feeding it the
// entity's train rows; up to workers entities at once (GOMAXPROCS when
// workers < 1).
func Run(ctx context.Context, ents []Entity, newDetector func(metrics int) (Detector, error), workers int) (Scores, error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([][]float64, len(ents))
	errs := make([]error, len(ents))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(1, len(ents))) {
		wg.Go(func() {
			for i := range jobs {
				out[i], errs[i] = runOne(ctx, ents[i], newDetector)
			}
		})
	}
feed:
	for i := range ents {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tsad: running the detector: %w", err)
	}
	sc := Scores{}
	for i, e := range ents {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if sc[e.Set] == nil {
			sc[e.Set] = map[string][]float64{}
		}
		sc[e.Set][e.Name] = out[i]
	}
	return sc, nil
}

func runOne(ctx context.Context, e Entity, newDetector func(int) (Detector, error)) ([]float64, error) {
	d, err := newDetector(len(e.Metrics))
	if err != nil {
		return nil, fmt.Errorf("tsad %s/%s: %w", e.Set, e.Name, err)
	}
	for i, row := range e.Train {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.Observe(row)
	}
	s := make([]float64, len(e.Test))
	for i, row := range e.Test {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s[i] = d.Observe(row)
	}
	return s, nil
}
