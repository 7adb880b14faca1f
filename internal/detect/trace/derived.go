package trace

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// seriesStep holds one step's aggregates of the analysed traces for the derived
// series (signal.Series*): per service and per call edge, bounded by the
// stage's MaxSeries and MaxEdges. A span counts in the step its end falls in.
type seriesStep struct {
	services map[string]*serviceStep
	edges    map[ekey]*edgeStep // caller "": a callee that wrote no span
}

type serviceStep struct {
	dur           qsketch // server span durations
	self          float64 // sum of server spans' self time, ns
	server        int     // server spans
	spans, origin int     // all spans, and those whose error began there
	calls         int     // spans calling another service
}

type edgeStep struct {
	gap    qsketch // the caller's span less the callee's
	client qsketch // a call to a callee that left no span
}

// maxOpenSteps bounds the steps kept until Series returns them.
const maxOpenSteps = 64

// stepOf is the aggregates of the step holding t (unix ns), made on first
// use; nil for a step Series has already returned (its span is counted in
// LateSeriesSpans).
func (s *Stage) stepOf(t int64) *seriesStep {
	k := floorDiv(t, int64(s.cfg.SeriesStep))
	if k < s.stepsTo {
		s.st.LateSeriesSpans++
		return nil
	}
	st := s.steps[k]
	if st == nil {
		if len(s.steps) >= maxOpenSteps {
			// Nobody is reading the series: forget the oldest step.
			old := slices.Min(slices.Collect(maps.Keys(s.steps)))
			delete(s.steps, old)
			s.stepsTo = max(s.stepsTo, old+1)
			if k < s.stepsTo {
				return nil
			}
		}
		st = &seriesStep{services: map[string]*serviceStep{}, edges: map[ekey]*edgeStep{}}
		s.steps[k] = st
	}
	return st
}

func (st *seriesStep) service(name string, limit int) *serviceStep {
	a := st.services[name]
	if a == nil && len(st.services) < limit {
		a = &serviceStep{}
		st.services[name] = a
	}
	return a
}

func (st *seriesStep) edge(k ekey, limit int) *edgeStep {
	e := st.edges[k]
	if e == nil && len(st.edges) < limit {
		e = &edgeStep{}
		st.edges[k] = e
	}
	return e
}

// addTo records one duration (ns) in a sketch made on first use.
func addTo(q *qsketch, ns int64) {
	if q.s == nil {
		*q = newQsketch(0)
	}
	q.add(ns)
}

// derive adds span i of an analysed trace to its step's aggregates. service
// is whom the span's time belongs to (its peer for a call the peer left no
// span of), self its own time (less its children's), origin whether an
// error began there and unreachable whether it is a failed call to a peer
// that left no span, an error of the peer's.
func (s *Stage) derive(t *trace, par []int32, i int, service string, self int64, origin, unreachable bool) {
	sp := &t.spans[i]
	st := s.stepOf(sp.end)
	if st == nil {
		return
	}
	nsvc, nedge := s.cfg.MaxSeries, s.cfg.MaxEdges
	dur := sp.end - sp.start
	if a := st.service(sp.service, nsvc); a != nil {
		a.spans++
		if origin && service == sp.service {
			a.origin++
		}
		server := sp.kind == kindServer || sp.kind == kindUnset && !sp.client &&
			(par[i] < 0 || t.spans[par[i]].service != sp.service)
		if server {
			a.server++
			addTo(&a.dur, dur)
			a.self += float64(max(self, 0))
		}
		if sp.client || s.xkid[i] >= 0 {
			a.calls++
		}
	}
	if x := s.xkid[i]; x >= 0 {
		c := &t.spans[x]
		if e := st.edge(ekey{caller: sp.service, callee: c.service}, nedge); e != nil {
			addTo(&e.gap, dur-(c.end-c.start))
		}
		return
	}
	if sp.client && sp.peer != "" && sp.peer != sp.service && s.flags[i]&flagPeerChild == 0 {
		// A call whose callee left no span: the call is all there is of it.
		if p := st.service(sp.peer, nsvc); p != nil {
			p.spans++
			if unreachable {
				p.origin++
			}
		}
		if e := st.edge(ekey{callee: sp.peer}, nedge); e != nil {
			addTo(&e.client, dur)
		}
	}
}

// Series returns the derived series (signal.Series*) of every step that
// closed by now, the oldest first: a step is closed once a trace ending in
// it has had its completion timeout and grace to be analysed. A zero now
// closes every step. Samples are stamped at their step's start; the steps
// returned are forgotten, and spans analysed later in them are counted in
// LateSeriesSpans.
func (s *Stage) Series(now time.Time) []signal.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	width := int64(s.cfg.SeriesStep)
	var out []signal.Sample
	for _, k := range slices.Sorted(maps.Keys(s.steps)) {
		if !now.IsZero() && (k+1)*width+int64(s.cfg.CompletionTimeout+s.cfg.Grace) > now.UnixNano() {
			break
		}
		out = s.steps[k].samples(out, time.Unix(0, k*width).UTC(), s.cfg.SeriesStep.Seconds())
		delete(s.steps, k)
		s.stepsTo = k + 1
	}
	return out
}

func (st *seriesStep) samples(out []signal.Sample, t time.Time, width float64) []signal.Sample {
	for _, name := range slices.Sorted(maps.Keys(st.services)) {
		a := st.services[name]
		if a.server > 0 {
			out = append(out,
				signal.Sample{Time: t, Entity: name, Name: signal.SeriesServerDuration, Value: a.dur.quantile(0.5) / 1e3},
				signal.Sample{Time: t, Entity: name, Name: signal.SeriesSelfTime, Value: a.self / float64(a.server) / 1e9},
				signal.Sample{Time: t, Entity: name, Name: signal.SeriesSpanRate, Value: float64(a.server) / width},
				signal.Sample{Time: t, Entity: name, Name: signal.SeriesFanOut, Value: float64(a.calls) / float64(a.server)})
		}
		if a.spans > 0 {
			out = append(out, signal.Sample{Time: t, Entity: name, Name: signal.SeriesErrorOrigin, Value: float64(a.origin) / float64(a.spans)})
		}
	}
	keys := slices.SortedFunc(maps.Keys(st.edges), func(a, b ekey) int {
		return cmp.Or(cmp.Compare(a.callee, b.callee), cmp.Compare(a.caller, b.caller))
	})
	for _, k := range keys {
		e := st.edges[k]
		if e.gap.count() > 0 {
			out = append(out, signal.Sample{Time: t, Entity: k.callee, Name: signal.SeriesCallGap, Labels: map[string]string{"caller": k.caller}, Value: e.gap.quantile(0.5) / 1e3})
		}
		if e.client.count() > 0 {
			out = append(out, signal.Sample{Time: t, Entity: k.callee, Name: signal.SeriesClientDuration, Value: e.client.quantile(0.5) / 1e3})
		}
	}
	return out
}
