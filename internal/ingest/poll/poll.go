// Package poll runs the pull sources (scrapes, probes): every interval it
// reads each target at once, so that one that hangs does not delay the news
// from the others, and hands each target's samples on.
package poll

import (
	"context"
	"sync"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Run reads every target concurrently each interval, the first round at
// once, and hands each target's samples to sink, until ctx ends. fail hears
// of every failure: of reading a target (read true) or of handing its
// samples on; it must be safe for concurrent use.
func Run[T any](ctx context.Context, interval time.Duration, targets []T,
	read func(context.Context, T) ([]signal.Sample, error),
	sink func(context.Context, *signal.Batch) error,
	fail func(target T, read bool, err error)) {
	if len(targets) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, tg := range targets {
			wg.Go(func() {
				smp, err := read(ctx, tg)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					fail(tg, true, err)
				}
				if err := sink(ctx, &signal.Batch{Samples: smp}); err != nil && ctx.Err() == nil {
					fail(tg, false, err)
				}
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
