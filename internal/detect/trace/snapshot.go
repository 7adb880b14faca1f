package trace

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
)

// ErrSnapshot is wrapped by every error of UnmarshalBinary.
var ErrSnapshot = errors.New("trace stage snapshot")

// snapshotMagic starts every stage snapshot; the last byte is the format
// version, raised whenever a visit method below changes.
const snapshotMagic = "SEERTRC\x01"

// What a snapshot holds is what the stage learned: the per-operation
// baselines (latency, failure ratios, self-time sketches, call-structure
// fingerprints and their alarms), the localisation baselines and their
// recent windows, and the topology (edges with their rates and latency
// sketches, services, callers). It leaves out what is in flight and cheap
// to lose: buffered traces, the open window of each series (its samples and
// deviation tallies), the derived series' steps and the example traces. The
// known failures are not in it: the engine rebuilds them from the
// confirmed incidents.

// codec reads or writes a snapshot field by field: each type lists its
// fields once (visit), for both directions, so that saving and restoring
// cannot drift apart. Errors are sticky; a read past the end, a length
// longer than what is left or a number that is not finite is one.
type codec struct {
	w   *bytes.Buffer // writing when set
	r   []byte        // else reading from here
	err error
}

func (c *codec) reading() bool { return c.w == nil }

func (c *codec) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

func (c *codec) u64(p *uint64) {
	if c.w != nil {
		c.w.Write(binary.LittleEndian.AppendUint64(nil, *p))
		return
	}
	if c.err != nil {
		return
	}
	if len(c.r) < 8 {
		c.fail("truncated")
		return
	}
	*p, c.r = binary.LittleEndian.Uint64(c.r), c.r[8:]
}

func (c *codec) i64(p *int64) {
	u := uint64(*p)
	c.u64(&u)
	*p = int64(u)
}

// f64 reads or writes a finite number: nothing the stage learns is
// infinite or NaN, so such a number is a corrupt snapshot.
func (c *codec) f64(p *float64) {
	u := math.Float64bits(*p)
	c.u64(&u)
	*p = math.Float64frombits(u)
	if c.reading() && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
		c.fail("a number is %v", *p)
	}
}

func (c *codec) int(p *int) {
	v := int64(*p)
	c.i64(&v)
	*p = int(v)
}

func (c *codec) bool(p *bool) {
	var v uint64
	if *p {
		v = 1
	}
	c.u64(&v)
	if c.reading() && v > 1 {
		c.fail("a flag is %d", v)
	}
	*p = v == 1
}

// length writes n or reads a count of items of at least size bytes each,
// no more than limit and than what is left to read, so that a hostile
// length allocates nothing.
func (c *codec) length(n, size, limit int, what string) int {
	v := int64(n)
	c.i64(&v)
	if c.reading() && c.err == nil && (v < 0 || v > int64(limit) || v > int64(len(c.r)/size)) {
		c.fail("%d %s (at most %d)", v, what, limit)
		return 0
	}
	return int(v)
}

// string reads or writes a string of at most limit bytes.
func (c *codec) string(p *string, limit int) {
	n := c.length(len(*p), 1, limit, "bytes in a name")
	if c.w != nil {
		c.w.WriteString(*p)
		return
	}
	if c.err != nil {
		return
	}
	*p, c.r = string(c.r[:n]), c.r[n:]
}

// sketch reads or writes a duration sketch bin by bin, so that reading
// builds a sketch of the stage's own mapping and bin bound whatever the
// input says. memory is the sketch's decay, which the stage's
// configuration sets and the snapshot does not hold.
func (c *codec) sketch(q *qsketch, memory float64) {
	if c.reading() {
		*q = newQsketch(memory)
	}
	zero := 0.0
	type bin struct {
		index int
		count float64
	}
	var bins []bin
	if !c.reading() && q.s != nil {
		zero = q.s.GetZeroCount()
		q.s.GetPositiveValueStore().ForEach(func(index int, count float64) bool {
			bins = append(bins, bin{index, count})
			return false
		})
	}
	c.f64(&zero)
	n := c.length(len(bins), 16, sketchBins, "sketch bins")
	if c.reading() {
		bins = make([]bin, n)
	}
	var lo, hi int
	if c.reading() {
		m := q.s.IndexMapping
		lo, hi = m.Index(m.MinIndexableValue()), m.Index(m.MaxIndexableValue())
	}
	for i := range bins {
		c.int(&bins[i].index)
		c.f64(&bins[i].count)
		if c.reading() && c.err == nil && (bins[i].index < lo || bins[i].index > hi || bins[i].count < 0) {
			c.fail("sketch bin %d of count %g out of range", bins[i].index, bins[i].count)
		}
	}
	if !c.reading() || c.err != nil {
		return
	}
	if zero < 0 {
		c.fail("sketch zero count %g", zero)
		return
	}
	if zero > 0 {
		_ = q.s.AddWithCount(0, zero) // a non-negative count of 0 never fails
	}
	st := q.s.GetPositiveValueStore()
	for _, b := range bins {
		if b.count > 0 {
			st.AddWithCount(b.index, b.count)
		}
	}
}

func (a *alert) visit(c *codec) {
	c.bool(&a.active)
	c.i64(&a.onset)
	c.i64(&a.last)
}

func (st *step) visit(c *codec, cfg *Config) {
	c.string(&st.key.service, cfg.MaxFieldLen)
	c.string(&st.key.op, cfg.MaxFieldLen)
	c.f64(&st.present)
	c.f64(&st.twice)
	c.f64(&st.thrice)
	c.sketch(&st.dur, float64(cfg.StructMemory))
	c.i64(&st.bound)
	c.int(&st.sinceBound)
}

func (fp *fingerprint) visit(c *codec, cfg *Config) {
	c.f64(&fp.execs)
	c.bool(&fp.unordered)
	n := c.length(len(fp.list), 8, cfg.MaxSteps, "steps of an operation")
	if c.reading() {
		fp.steps = make(map[stepKey]*step, n)
		fp.list = make([]*step, n)
	}
	for i := range fp.list {
		if c.reading() {
			fp.list[i] = &step{}
		}
		st := fp.list[i]
		st.visit(c, cfg)
		if c.reading() && c.err == nil {
			if fp.steps[st.key] != nil {
				c.fail("step %s twice", st.key)
			}
			fp.steps[st.key] = st
		}
	}
	type seq struct {
		h uint64
		n float64
	}
	var seqs []seq
	if !c.reading() {
		for _, h := range slices.Sorted(maps.Keys(fp.seqs)) {
			seqs = append(seqs, seq{h, fp.seqs[h]})
		}
	}
	n = c.length(len(seqs), 16, maxSeqs, "call orders of an operation")
	if c.reading() {
		seqs = make([]seq, n)
	}
	for i := range seqs {
		c.u64(&seqs[i].h)
		c.f64(&seqs[i].n)
	}
	if c.reading() && c.err == nil {
		if fp.unordered && n > 0 {
			c.fail("call orders of an operation whose order is free")
			return
		}
		if !fp.unordered {
			fp.seqs = make(map[uint64]float64, n)
			for _, s := range seqs {
				fp.seqs[s.h] = s.n
			}
		}
	}
}

func (sr *series) visit(c *codec, cfg *Config) {
	kind := uint64(sr.key.kind)
	c.u64(&kind)
	if c.reading() && kind > uint64(kindTimeout) {
		c.fail("series kind %d", kind)
	}
	sr.key.kind = skind(kind)
	c.string(&sr.key.a, cfg.MaxFieldLen)
	c.string(&sr.key.b, cfg.MaxFieldLen)
	c.i64(&sr.lastSeen)
	c.int(&sr.learned)
	for _, p := range []*float64{&sr.mean, &sr.vin, &sr.vbet, &sr.en, &sr.ek, &sr.ed} {
		c.f64(p)
	}
	for i := range sr.alerts {
		sr.alerts[i].visit(c)
	}
	// An operation has its self-time sketch (getSeries).
	if sr.key.kind == kindOp {
		c.sketch(&sr.self, float64(cfg.StructMemory))
	}
	has := sr.fp != nil
	c.bool(&has)
	if has && c.reading() {
		if sr.key.kind != kindOp {
			c.fail("a fingerprint on a series of kind %d", sr.key.kind)
			return
		}
		sr.fp = &fingerprint{}
	}
	if has {
		sr.fp.visit(c, cfg)
	}
}

func (sl *locSlot) visit(c *codec) {
	for _, p := range []*int64{&sl.w, &sl.cp, &sl.errs, &sl.unreach, &sl.roots, &sl.traces, &sl.e2e} {
		c.i64(p)
	}
	c.f64(&sl.cp2)
}

// visit saves the slots that hold a window; reading puts each back where
// its window belongs.
func (r *slots) visit(c *codec) {
	var used []int
	if !c.reading() {
		for i := range r {
			if r[i].w >= 0 {
				used = append(used, i)
			}
		}
	}
	n := c.length(len(used), 64, locRing, "localisation windows")
	for i := range n {
		var sl locSlot
		if !c.reading() {
			sl = r[used[i]]
		}
		sl.visit(c)
		if c.reading() && c.err == nil {
			if sl.w < 0 {
				c.fail("localisation window %d", sl.w)
				return
			}
			r[uint64(sl.w)%locRing] = sl
		}
	}
}

func (l *svcLoc) visit(c *codec) {
	l.ring.visit(c)
	for _, p := range []*float64{&l.cp, &l.errs, &l.unreach, &l.roots, &l.seen, &l.cp2} {
		c.f64(p)
	}
}

func (e *edge) visit(c *codec) {
	for _, p := range []*int64{&e.calls, &e.errs, &e.first, &e.last} {
		c.i64(p)
	}
	for i := range e.ring {
		c.i64(&e.ring[i].slot)
		c.i64(&e.ring[i].calls)
		c.i64(&e.ring[i].errs)
	}
	for i := range e.hist {
		h := &e.hist[i]
		has := h.q.s != nil
		c.bool(&has)
		if has {
			c.i64(&h.epoch)
			c.sketch(&h.q, 0)
		}
	}
}

// visit lists the stage's learned state (see the comment at the top).
func (s *Stage) visit(c *codec) {
	cfg := &s.cfg
	c.i64(&s.lastNow)
	c.i64(&s.newest)
	c.i64(&s.aged)
	c.f64(&s.gTraces)
	c.f64(&s.gE2E)
	c.i64(&s.gWindows)
	c.i64(&s.locLearned)
	s.gring.visit(c)

	n := c.length(len(s.series), 8, cfg.MaxSeries, "series")
	if c.reading() {
		s.series = make(map[skey]*series, n)
		for range n {
			sr := &series{}
			sr.visit(c, cfg)
			if c.err != nil {
				return
			}
			if s.series[sr.key] != nil {
				c.fail("series %d %s %s twice", sr.key.kind, sr.key.a, sr.key.b)
				return
			}
			s.series[sr.key] = sr
		}
	} else {
		for _, k := range slices.SortedFunc(maps.Keys(s.series), func(a, b skey) int {
			return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.a, b.a), cmp.Compare(a.b, b.b))
		}) {
			s.series[k].visit(c, cfg)
		}
	}

	n = c.length(len(s.loc), 8, cfg.MaxSeries, "localised services")
	if c.reading() {
		s.loc = make(map[string]*svcLoc, n)
		for range n {
			var svc string
			c.string(&svc, cfg.MaxFieldLen)
			l := &svcLoc{}
			for i := range l.ring {
				l.ring[i].w = -1
			}
			l.visit(c)
			if c.err != nil {
				return
			}
			s.loc[svc] = l
		}
	} else {
		for _, svc := range slices.Sorted(maps.Keys(s.loc)) {
			c.string(&svc, cfg.MaxFieldLen)
			s.loc[svc].visit(c)
		}
	}

	n = c.length(len(s.edges), 8, cfg.MaxEdges, "edges")
	if c.reading() {
		s.edges = make(map[ekey]*edge, n)
		for range n {
			var k ekey
			c.string(&k.caller, cfg.MaxFieldLen)
			c.string(&k.callee, cfg.MaxFieldLen)
			e := &edge{}
			e.visit(c)
			if c.err != nil {
				return
			}
			s.edges[k] = e
		}
	} else {
		for _, k := range slices.SortedFunc(maps.Keys(s.edges), func(a, b ekey) int {
			return cmp.Or(cmp.Compare(a.caller, b.caller), cmp.Compare(a.callee, b.callee))
		}) {
			c.string(&k.caller, cfg.MaxFieldLen)
			c.string(&k.callee, cfg.MaxFieldLen)
			s.edges[k].visit(c)
		}
	}

	n = c.length(len(s.services), 16, cfg.MaxSeries, "services")
	if c.reading() {
		s.services = make(map[string]int64, n)
		for range n {
			var svc string
			var last int64
			c.string(&svc, cfg.MaxFieldLen)
			c.i64(&last)
			s.services[svc] = last
		}
	} else {
		for _, svc := range slices.Sorted(maps.Keys(s.services)) {
			last := s.services[svc]
			c.string(&svc, cfg.MaxFieldLen)
			c.i64(&last)
		}
	}
	n = c.length(len(s.callerOf), 16, cfg.MaxSeries, "callers")
	if c.reading() {
		s.callerOf = make(map[string]string, n)
		for range n {
			var callee, caller string
			c.string(&callee, cfg.MaxFieldLen)
			c.string(&caller, cfg.MaxFieldLen)
			s.callerOf[callee] = caller
		}
	} else {
		for _, callee := range slices.Sorted(maps.Keys(s.callerOf)) {
			caller := s.callerOf[callee]
			c.string(&callee, cfg.MaxFieldLen)
			c.string(&caller, cfg.MaxFieldLen)
		}
	}
}

func encodeConfig(cfg Config) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(cfg); err != nil {
		return nil, fmt.Errorf("encoding the trace configuration: %w", err)
	}
	return b.Bytes(), nil
}

// MarshalBinary saves what the stage learned (see the comment at the top),
// so that a restart does not warm every baseline up again. The stage's
// configuration is saved with it: a snapshot restores only into a stage
// configured the same.
func (s *Stage) MarshalBinary() ([]byte, error) {
	cfg, err := encodeConfig(s.cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(snapshotMagic)
	c := &codec{w: &b}
	c.length(len(cfg), 1, 0, "")
	b.Write(cfg)
	s.visit(c)
	return b.Bytes(), c.err
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing
// the stage's learned state; what is in flight (buffered traces, open
// windows) is dropped. On error (a corrupt file, a snapshot of a stage
// configured otherwise) the stage is left as it was.
func (s *Stage) UnmarshalBinary(data []byte) error {
	if len(data) < len(snapshotMagic) || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: not a seer trace stage snapshot (version %q expected)", ErrSnapshot, snapshotMagic)
	}
	want, err := encodeConfig(s.cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	c := &codec{r: data[len(snapshotMagic):]}
	n := c.length(0, 1, len(data), "configuration bytes")
	if c.err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, c.err)
	}
	if !bytes.Equal(c.r[:n], want) {
		return fmt.Errorf("%w: the trace detectors were configured otherwise when it was taken", ErrSnapshot)
	}
	c.r = c.r[n:]
	// Read into a fresh stage of the same configuration; the learned part
	// of it replaces this one's only when all of it was read.
	fresh := NewStage(s.cfg, nil)
	fresh.visit(c)
	if c.err == nil && len(c.r) != 0 {
		c.fail("%d bytes left over", len(c.r))
	}
	if c.err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, c.err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastNow, s.newest, s.aged = fresh.lastNow, fresh.newest, fresh.aged
	s.gTraces, s.gE2E, s.gWindows, s.locLearned, s.gring = fresh.gTraces, fresh.gE2E, fresh.gWindows, fresh.locLearned, fresh.gring
	s.series, s.loc, s.edges, s.services, s.callerOf = fresh.series, fresh.loc, fresh.edges, fresh.services, fresh.callerOf
	// In flight, and judged against the state replaced: dropped.
	clear(s.traces)
	s.buffered = 0
	clear(s.steps)
	s.stepsTo = math.MinInt64
	return nil
}
