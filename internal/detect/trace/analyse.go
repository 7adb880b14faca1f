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
	flagDup     // a span with this id came earlier; ignored
	flagSlow    // the span took longer than its step's time bound
	flagSlowKid // some child is flagSlow
	flagMapped  // a client span standing for its peer, which left no span
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
	// Spans cut out of a loop become roots, but the trace is complete
	// when the rest of it is: what is missing there is not coming.
	s.breakCycles(t, par)
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
	s.xkid = grow(s.xkid, n)
	for i := range s.xkid {
		s.xkid[i] = -1
	}
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
				if s.xkid[p] < 0 {
					s.xkid[p] = l.child
				}
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

	s.critical(t, par)
	s.ser = grow(s.ser, n)
	s.facts = s.facts[:0]
	g := s.gring.at(w)
	g.traces++
	g.e2e += t.newest - t.oldest
	for i := range t.spans {
		s.ser[i] = nil
		if flags[i]&flagDup != 0 {
			continue
		}
		sp := &t.spans[i]
		if last, ok := s.services[sp.service]; ok || len(s.services) < s.cfg.MaxSeries {
			s.services[sp.service] = max(last, sp.end)
		}
		origin := sp.err && flags[i]&flagChildErr == 0
		service := sp.service
		unreachable := false
		if sp.client && sp.peer != "" && sp.peer != sp.service && flags[i]&flagPeerChild == 0 {
			// A call the peer's own span does not show: the call is the
			// only record of it, and an error in it is the peer's.
			s.call(sp.service, sp.peer, sp, !origin, w, t.id)
			if origin {
				origin, unreachable = false, true // counted as unreachable, not as an error of the caller
				s.facts = append(s.facts, "unreachable:"+sp.service+">"+sp.peer)
				if l := s.locOf(sp.peer); l != nil {
					l.ring.at(w).unreach++
				}
			}
			if flags[i]&flagHasChild == 0 {
				service = sp.peer // its whole duration is the peer's time
				flags[i] |= flagMapped
			}
		}
		if l := s.locOf(service); l != nil {
			sl := l.ring.at(w)
			sl.cp += s.cp[i]
			ms := float64(s.cp[i]) / 1e6
			sl.cp2 += ms * ms
			if origin {
				sl.errs++
			}
			if par[i] < 0 && sp.parent == "" {
				sl.roots++
			}
		}
		self := (sp.end - sp.start) - cover[i]
		s.derive(t, par, i, service, self, origin, unreachable)
		sr := s.getSeries(skey{kindOp, service, sp.op}, sp.end)
		if sr == nil {
			continue
		}
		s.ser[i] = sr
		s.advance(sr, w, now)
		x := math.Log(float64(max(self, 0))/1e6 + logFloorMs)
		sr.b.add(x, origin, t.id, sp.errT)
		s.exKeep = s.exKeep || sr.b.worstTrace == t.id || sr.b.errTrace == t.id
		if origin {
			s.facts = append(s.facts, "error:"+service+"/"+sp.op)
		}
		if !sr.alerts[alertLatency].active {
			sr.self.add(self)
		}
	}
	s.checkStructure(t)
	s.matchKnown(t, now)

	if earliest >= 0 {
		if sr := s.getSeries(skey{kindTimeout, s.origin(t, par, earliest), ""}, t.newest); sr != nil {
			s.advance(sr, w, now)
			sr.b.addRatio(incomplete, t.id, "")
			s.exKeep = s.exKeep || sr.b.errTrace == t.id
		}
	}
	s.keepExemplar(t)
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

// breakCycles cuts every loop in the parent links (a span that is its own
// ancestor), making the span where the loop was found a root, and returns
// how many were cut; a loop would otherwise send the tree walks round it
// for ever.
func (s *Stage) breakCycles(t *trace, par []int32) int {
	n := len(t.spans)
	s.mark = grow(s.mark, n)
	mark := s.mark
	clear(mark)
	cut := 0
	for i := range n {
		j := int32(i)
		for j >= 0 && mark[j] == 0 {
			mark[j] = 1 // on the current path
			j = par[j]
		}
		loop := int32(-1)
		if j >= 0 && mark[j] == 1 {
			loop = j
		}
		for k := int32(i); k >= 0 && mark[k] == 1; k = par[k] {
			mark[k] = 2 // done; the walk stops where the loop closes
		}
		if loop >= 0 {
			par[loop] = -1
			cut++
		}
	}
	if cut > 0 {
		s.st.Repaired[RepairCycle] += int64(cut)
	}
	return cut
}

// cpItem is a span whose critical path is to be walked within [lo, hi].
type cpItem struct {
	i      int32
	lo, hi int64
}

// critical finds each span's own time on the trace's critical path (s.cp):
// walking back from the end of a span, the child that finished last is what
// it waited for, then the child that finished last before that one began,
// and so on; the gaps are the span's own. A service whose own time grew
// while its callers only waited for it is told apart this way.
func (s *Stage) critical(t *trace, par []int32) {
	n := len(t.spans)
	s.cp = grow(s.cp, n)
	clear(s.cp)
	s.lo = grow(s.lo, n)
	s.hi = grow(s.hi, n)
	clear(s.lo)
	clear(s.hi)
	// s.links is sorted by parent then start; byEnd by parent then end,
	// latest first. Both group the children of a span at [lo, hi).
	s.byEnd = append(s.byEnd[:0], s.links...)
	slices.SortFunc(s.byEnd, func(a, b link) int {
		return cmp.Or(cmp.Compare(a.parent, b.parent), cmp.Compare(b.end, a.end))
	})
	for j := 0; j < len(s.links); {
		p := s.links[j].parent
		s.lo[p] = int32(j)
		for j < len(s.links) && s.links[j].parent == p {
			j++
		}
		s.hi[p] = int32(j)
	}
	stack := s.stack[:0]
	for i := range t.spans {
		if par[i] < 0 && s.flags[i]&flagDup == 0 {
			stack = append(stack, cpItem{int32(i), t.spans[i].start, t.spans[i].end})
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		cursor := it.hi
		for j := s.lo[it.i]; j < s.hi[it.i] && cursor > it.lo; j++ {
			l := &s.byEnd[j]
			end := min(l.end, cursor)
			if l.start >= cursor || end <= it.lo {
				continue
			}
			start := max(l.start, it.lo)
			s.cp[it.i] += cursor - end
			stack = append(stack, cpItem{l.child, start, end})
			cursor = start
		}
		if cursor > it.lo {
			s.cp[it.i] += cursor - it.lo
		}
	}
	s.stack = stack
}

// checkStructure flags the calls over their time bounds, then checks every
// execution of the trace against its operation's fingerprint.
func (s *Stage) checkStructure(t *trace) {
	for j := range s.links {
		l := &s.links[j]
		psr, csr := s.ser[l.parent], s.ser[l.child]
		if psr == nil || csr == nil || psr.fp == nil {
			continue
		}
		st := psr.fp.steps[stepKey{csr.key.a, csr.key.b}]
		if st != nil && st.bound > 0 && l.end-l.start > st.bound {
			s.flags[l.child] |= flagSlow
			s.flags[l.parent] |= flagSlowKid
		}
	}
	for i := range t.spans {
		if sr := s.ser[i]; sr != nil && s.flags[i]&flagMapped == 0 {
			s.structure(t, i, sr, s.lo[i], s.hi[i])
		}
	}
}
