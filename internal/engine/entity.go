package engine

import "github.com/seerops/seer/internal/signal"

// validEntities remembers the last entity found valid, which is the next
// one too in a batch that came from one resource or series.
type validEntities struct{ last string }

func (v *validEntities) ok(name string) bool {
	if name == v.last && name != "" {
		return true
	}
	if signal.CheckEntity(name) != nil {
		return false
	}
	v.last = name
	return true
}

// dropInvalidEntities removes from b the signals whose entity (for spans:
// service and peer service) is not a valid entity name, and counts them.
// Entities end up in runbooks' targets; the receivers check them too and
// tell their clients, so this is the net under every source.
func (e *Engine) dropInvalidEntities(b *signal.Batch) {
	var v validEntities
	var n int
	if b.Samples, n = keep(b.Samples, func(s *signal.Sample) bool { return v.ok(s.Entity) }); n > 0 {
		e.m.rejected.WithLabelValues("sample", "bad_entity").Add(float64(n))
	}
	if b.Logs, n = keep(b.Logs, func(l *signal.LogRecord) bool { return v.ok(l.Entity) }); n > 0 {
		e.m.rejected.WithLabelValues("log", "bad_entity").Add(float64(n))
	}
	if b.Spans, n = keep(b.Spans, func(s *signal.Span) bool {
		peer, has := s.Attrs[signal.AttrPeerService]
		return v.ok(s.Service) && (!has || v.ok(peer))
	}); n > 0 {
		e.m.rejected.WithLabelValues("span", "bad_entity").Add(float64(n))
	}
	if b.Events, n = keep(b.Events, func(ev *signal.Event) bool { return v.ok(ev.Entity) }); n > 0 {
		e.m.rejected.WithLabelValues("event", "bad_entity").Add(float64(n))
	}
}

// keep returns the elements of xs that are ok and how many were not. A
// slice with nothing to remove is returned as it is; otherwise the kept ones
// are copied, leaving the caller's slice alone.
func keep[T any](xs []T, ok func(*T) bool) ([]T, int) {
	for i := range xs {
		if ok(&xs[i]) {
			continue
		}
		out := append(make([]T, 0, len(xs)-1), xs[:i]...)
		for j := i + 1; j < len(xs); j++ {
			if ok(&xs[j]) {
				out = append(out, xs[j])
			}
		}
		return out, len(xs) - len(out)
	}
	return xs, 0
}
