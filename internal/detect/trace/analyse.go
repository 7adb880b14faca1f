package trace

import (
	"cmp"
	"math"
	"slices"
)

// link is one parent → child relation within a trace.
type link struct {
	parent, child int32
	start, end    int64
}

// Per-span flags found from the children.
const (
	flagChildErr  uint8 = 1 << iota // some child is an error
	flagPeerChild                   // some child belongs to the span's peer.service
	flagHasChild
	flagDup // a span with this id came earlier; ignored
)

// analyse turns one trace into samples for the baselines and calls for the
// topology. It returns false, consuming nothing, when the trace is not yet
// complete: it has more than one root (spans whose parent is absent) and has
// not timed out, which means spans are still missing.
func (s *Stage) analyse(t *trace, timedOut bool, now int64) bool {
	n := len(t.spans)
	clear(s.idx)
	s.kids = grow(s.kids, n)
	par := s.kids // parent index per span, -1 for a root
	s.flags = grow(s.flags, n)
	flags := s.flags
	clear(flags)
	dups := 0
	for i := range t.spans {
		if _, ok := s.idx[t.spans[i].id]; ok {
			flags[i] = flagDup
			dups++
			continue
		}
		s.idx[t.spans[i].id] = int32(i)
	}
	roots, earliest := 0, -1 // earliest non-duplicate span
	for i := range t.spans {
		par[i] = -1
		if flags[i]&flagDup != 0 {
			continue
		}
		sp := &t.spans[i]
		if p, ok := s.idx[sp.parent]; ok && sp.parent != "" && int(p) != i {
			par[i] = p
		} else {
			roots++
		}
		if earliest < 0 || sp.start < t.spans[earliest].start {
			earliest = i
		}
	}
	complete := roots == 1 && now-t.newest > int64(s.cfg.Grace)
	if !complete && !timedOut {
		return false
	}
	s.st.DuplicateSpans += int64(dups)
	s.st.TracesCompleted++
	incomplete := timedOut && !complete
	if incomplete {
		s.st.TracesIncomplete++
	}

	// The union of each span's children's intervals, clipped to the span,
	// is the time it spent waiting; the rest is its own.
	s.links = s.links[:0]
	for i := range t.spans {
		if p := par[i]; p >= 0 {
			c := &t.spans[i]
			s.links = append(s.links, link{parent: p, child: int32(i), start: c.start, end: c.end})
		}
	}
	slices.SortFunc(s.links, func(a, b link) int {
		return cmp.Or(cmp.Compare(a.parent, b.parent), cmp.Compare(a.start, b.start))
	})
	s.cover = grow(s.cover, n)
	cover := s.cover
	clear(cover)
	w := floorDiv(t.newest, int64(s.cfg.Window))
	for j := 0; j < len(s.links); {
		p := s.links[j].parent
		ps := &t.spans[p]
		var covered, curS, curE int64
		open := false
		for ; j < len(s.links) && s.links[j].parent == p; j++ {
			l := &s.links[j]
			c := &t.spans[l.child]
			flags[p] |= flagHasChild
			if c.err {
				flags[p] |= flagChildErr
			}
			if ps.peer != "" && c.service == ps.peer {
				flags[p] |= flagPeerChild
			}
			if c.service != ps.service {
				s.call(ps.service, c.service, c, true, w, t.id)
			}
			st, en := max(l.start, ps.start), min(l.end, ps.end)
			if en <= st {
				continue
			}
			switch {
			case !open:
				curS, curE, open = st, en, true
			case st > curE:
				covered += curE - curS
				curS, curE = st, en
			default:
				curE = max(curE, en)
			}
		}
		if open {
			covered += curE - curS
		}
		cover[p] = covered
	}

	for i := range t.spans {
		if flags[i]&flagDup != 0 {
			continue
		}
		sp := &t.spans[i]
		s.services[sp.service] = max(s.services[sp.service], sp.end)
		origin := sp.err && flags[i]&flagChildErr == 0
		service := sp.service
		if sp.client && sp.peer != "" && sp.peer != sp.service && flags[i]&flagPeerChild == 0 {
			// A call the peer's own span does not show: the call is the
			// only record of it, and an error in it is the peer's.
			s.call(sp.service, sp.peer, sp, !origin, w, t.id)
			if origin {
				origin = false // counted as unreachable, not as an error of the caller
			}
			if flags[i]&flagHasChild == 0 {
				service = sp.peer // its whole duration is the peer's time
			}
		}
		self := (sp.end - sp.start) - cover[i]
		sr := s.getSeries(skey{kindOp, service, sp.op}, sp.end)
		if sr == nil {
			continue
		}
		s.advance(sr, w, now)
		x := math.Log(float64(max(self, 0))/1e6 + logFloorMs)
		sr.b.add(x, origin, t.id, sp.errT)
	}

	if earliest >= 0 {
		if sr := s.getSeries(skey{kindTimeout, s.origin(t, par, earliest), ""}, t.newest); sr != nil {
			s.advance(sr, w, now)
			sr.b.addRatio(incomplete, t.id, "")
		}
	}
	clear(t.spans) // drop string references early; the trace is gone
	return true
}

// grow returns b resized to n, reusing its array when it is large enough.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// floorDiv is a/b rounded towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// origin is the service a trace began in: its root's, or when the root
// never arrived (the usual shape of a hung request) the known caller of the
// earliest span whose parent is missing, or failing that that span's own.
func (s *Stage) origin(t *trace, par []int32, earliest int) string {
	orphan := -1
	for i := range t.spans {
		if par[i] >= 0 || s.flags[i]&flagDup != 0 {
			continue
		}
		if t.spans[i].parent == "" {
			return t.spans[i].service
		}
		if orphan < 0 || t.spans[i].start < t.spans[orphan].start {
			orphan = i
		}
	}
	if orphan < 0 {
		return t.spans[earliest].service
	}
	if c, ok := s.callerOf[t.spans[orphan].service]; ok {
		return c
	}
	return t.spans[orphan].service
}
