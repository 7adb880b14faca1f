package trace

import (
	"cmp"
	"slices"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/seerops/seer/internal/signal"
)

// rateBuckets is how many slices an edge's RateWindow is cut into.
const rateBuckets = 12

// ekey names an edge.
type ekey struct{ caller, callee string }

// hist is the latency sketch of one RateWindow of an edge.
type hist struct {
	epoch int64
	q     qsketch
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
		s.exKeep = s.exKeep || sr.b.errTrace == traceID
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
	if h.q.s == nil {
		h.q = newQsketch(0)
		h.epoch = epoch
	}
	if epoch > h.epoch {
		h.epoch = epoch
		h.q.s.Clear()
	}
	if epoch != h.epoch {
		return
	}
	h.q.add(c.end - c.start)
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
	for svc := range s.declaredSvcs {
		if _, ok := s.services[svc]; !ok {
			t.Services = append(t.Services, svc)
		}
	}
	slices.Sort(t.Services)
	bw := int64(s.cfg.RateWindow) / rateBuckets
	cur := floorDiv(s.newest, bw)
	epoch := floorDiv(s.newest, int64(s.cfg.RateWindow))
	merged, _ := ddsketch.LogCollapsingLowestDenseDDSketch(sketchAccuracy, sketchBins)
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
		merged.Clear()
		for i := range e.hist {
			h := &e.hist[i]
			if h.q.count() == 0 || (h.epoch != epoch && h.epoch != epoch-1) {
				continue
			}
			_ = merged.MergeWith(h.q.s) // sketches of one mapping always merge
		}
		if !merged.IsEmpty() {
			q := qsketch{s: merged}
			ed.LatencyP50 = time.Duration(q.quantile(0.50) * 1e6)
			ed.LatencyP99 = time.Duration(q.quantile(0.99) * 1e6)
		}
		t.Edges = append(t.Edges, ed)
	}
	for k := range s.declared {
		if _, ok := s.edges[k]; !ok {
			t.Edges = append(t.Edges, signal.Edge{Caller: k.caller, Callee: k.callee})
		}
	}
	slices.SortFunc(t.Edges, func(a, b signal.Edge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return t
}

// Declare merges a declared topology (from configuration or a case's
// topology.json) into the one discovered: its services and edges are listed
// by Topology even before (or without) a trace showing them, with zero
// statistics, until the next Declare replaces them. Discovered edges still
// appear and age out on their own.
func (s *Stage) Declare(t signal.Topology) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.declared = make(map[ekey]bool, len(t.Edges))
	s.declaredSvcs = make(map[string]bool, len(t.Services))
	for _, svc := range t.Services {
		if svc != "" && len(svc) <= s.cfg.MaxFieldLen && len(s.declaredSvcs) < s.cfg.MaxEdges {
			s.declaredSvcs[svc] = true
		}
	}
	for _, e := range t.Edges {
		if e.Caller == "" || e.Callee == "" || len(e.Caller) > s.cfg.MaxFieldLen || len(e.Callee) > s.cfg.MaxFieldLen ||
			len(s.declared) >= s.cfg.MaxEdges {
			continue
		}
		s.declared[ekey{e.Caller, e.Callee}] = true
		s.declaredSvcs[e.Caller] = true
		s.declaredSvcs[e.Callee] = true
	}
}
