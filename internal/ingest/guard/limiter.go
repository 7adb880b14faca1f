package guard

import (
	"sync"
	"time"
)

// limiter is a token bucket per source, bounded in memory: when it holds
// maxSources buckets it forgets the idle ones (full again), and sources it
// still cannot fit share one overflow bucket.
type limiter struct {
	rate, burst float64
	max         int
	mu          sync.Mutex
	buckets     map[string]*bucket
	overflow    bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst, maxSources int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: maxSources,
		buckets: make(map[string]*bucket), overflow: bucket{tokens: float64(burst)}}
}

func (l *limiter) allow(source string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[source]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		if len(l.buckets) >= l.max {
			b = &l.overflow
		} else {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[source] = b
		}
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evict forgets the buckets that would be full by now: forgetting them
// changes nothing for their sources.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
