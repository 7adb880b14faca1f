package trace

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/seerops/seer/internal/signal"
)

const (
	// rateBuckets is how many slices an edge's RateWindow is cut into.
	rateBuckets = 12
	// histBuckets: four per power of two of nanoseconds, ~19% wide, so a
	// quantile is off by at most ~9%.
	histBuckets = 256
)

// ekey names an edge.
type ekey struct{ caller, callee string }

// hist is a log-bucketed latency histogram of one RateWindow.
type hist struct {
	epoch int64
	n     uint32
	b     [histBuckets]uint32
}

// edge is one caller → callee dependency with its statistics.
type edge struct {
	calls, errs int64
	first, last int64
	ring        [rateBuckets]struct {
		slot        int64
		calls, errs int64
	}
	hist [2]hist
}

// call records one call from caller to callee (c is the callee's span, or
// the caller's client span when the callee left none) in the topology and
// in the caller→callee reachability series.
func (s *Stage) call(caller, callee string, c *cspan, reached bool, w int64, traceID string) {
	if sr := s.getSeries(skey{kindUnreach, callee, caller}, c.end); sr != nil {
		s.advance(sr, w, s.lastNow)
		sr.b.addRatio(!reached, traceID, c.errT)
	}
	if s.callerOf[callee] != caller && len(s.callerOf) < s.cfg.MaxSeries {
		s.callerOf[callee] = caller
	}
	k := ekey{caller, callee}
	e := s.edges[k]
	if e == nil {
		if len(s.edges) >= s.cfg.MaxEdges {
			s.st.EdgesShed++
			return
		}
		e = &edge{first: c.start, last: c.end}
		s.edges[k] = e
	}
	e.first = min(e.first, c.start)
	e.last = max(e.last, c.end)
	e.calls++
	if c.err {
		e.errs++
	}

	bw := int64(s.cfg.RateWindow) / rateBuckets
	slot := floorDiv(c.start, bw)
	r := &e.ring[uint64(slot)%rateBuckets]
	if slot > r.slot {
		r.slot, r.calls, r.errs = slot, 0, 0
	}
	if slot == r.slot { // an older slot than the ring remembers is not counted
		r.calls++
		if c.err {
			r.errs++
		}
	}
	epoch := floorDiv(c.start, int64(s.cfg.RateWindow))
	h := &e.hist[uint64(epoch)%2]
	if epoch > h.epoch {
		*h = hist{epoch: epoch}
	}
	if epoch != h.epoch {
		return
	}
	h.n++
	h.b[histIndex(c.end-c.start)]++
}

// histIndex is the bucket of a duration in nanoseconds.
func histIndex(ns int64) int {
	if ns <= 0 {
		return 0
	}
	l := bits.Len64(uint64(ns)) - 1
	if l < 2 {
		return l
	}
	return 4*l + int((ns>>(l-2))&3)
}

// histValue is a representative duration of bucket i.
func histValue(i int) time.Duration {
	l, sub := i/4, i%4
	if l < 2 {
		return time.Duration(int64(1) << i)
	}
	lo := int64(4+sub) << (l - 2)
	hi := int64(5+sub) << (l - 2)
	return time.Duration(lo + (hi-lo)/2)
}

// Topology is the service dependency graph seen in recent traces: services
// sorted, edges sorted by caller and callee. Calls and Errors count since
// FirstSeen; Rate, ErrorRatio and the latency quantiles cover the last
// RateWindow before the newest time seen.
func (s *Stage) Topology() signal.Topology {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := signal.Topology{Services: make([]string, 0, len(s.services))}
	for svc := range s.services {
		t.Services = append(t.Services, svc)
	}
	slices.Sort(t.Services)
	bw := int64(s.cfg.RateWindow) / rateBuckets
	cur := floorDiv(s.newest, bw)
	epoch := floorDiv(s.newest, int64(s.cfg.RateWindow))
	var merged [histBuckets]uint32
	for k, e := range s.edges {
		var calls, errs int64
		for _, r := range e.ring {
			if r.slot > cur-rateBuckets && r.slot <= cur {
				calls += r.calls
				errs += r.errs
			}
		}
		ed := signal.Edge{
			Caller: k.caller, Callee: k.callee,
			Calls: e.calls, Errors: e.errs,
			Rate:      float64(calls) / s.cfg.RateWindow.Seconds(),
			FirstSeen: time.Unix(0, e.first).UTC(),
			LastSeen:  time.Unix(0, e.last).UTC(),
		}
		if calls > 0 {
			ed.ErrorRatio = float64(errs) / float64(calls)
		}
		var n uint32
		clear(merged[:])
		for i := range e.hist {
			h := &e.hist[i]
			if h.n == 0 || (h.epoch != epoch && h.epoch != epoch-1) {
				continue
			}
			n += h.n
			for j, v := range h.b {
				merged[j] += v
			}
		}
		if n > 0 {
			ed.LatencyP50 = quantile(&merged, n, 0.50)
			ed.LatencyP99 = quantile(&merged, n, 0.99)
		}
		t.Edges = append(t.Edges, ed)
	}
	slices.SortFunc(t.Edges, func(a, b signal.Edge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return t
}

// quantile is the q-quantile of a histogram holding n values.
func quantile(b *[histBuckets]uint32, n uint32, q float64) time.Duration {
	rank := uint32(q*float64(n-1)) + 1
	var seen uint32
	for i, v := range b {
		seen += v
		if seen >= rank {
			return histValue(i)
		}
	}
	return histValue(histBuckets - 1)
}
