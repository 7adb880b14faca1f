package trace

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/seerops/seer/internal/snapshot"
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

// sketch reads or writes a duration sketch bin by bin, so that reading
// builds a sketch of the stage's own mapping and bin bound whatever the
// input says. memory is the sketch's decay, which the stage's
// configuration sets and the snapshot does not hold.
func visitSketch(c *snapshot.Codec, q *qsketch, memory float64) {
	if c.Reading() {
		*q = newQsketch(memory)
	}
	zero := 0.0
	type bin struct {
		index int
		count float64
	}
	var bins []bin
	if !c.Reading() && q.s != nil {
		zero = q.s.GetZeroCount()
		q.s.GetPositiveValueStore().ForEach(func(index int, count float64) bool {
			bins = append(bins, bin{index, count})
			return false
		})
	}
	c.Finite(&zero)
	n := c.Length(len(bins), 16, sketchBins, "sketch bins")
	if c.Reading() {
		bins = make([]bin, n)
	}
	var lo, hi int
	if c.Reading() {
		m := q.s.IndexMapping
		lo, hi = m.Index(m.MinIndexableValue()), m.Index(m.MaxIndexableValue())
	}
	for i := range bins {
		c.Int(&bins[i].index)
		c.Finite(&bins[i].count)
		if c.Reading() && c.Err() == nil && (bins[i].index < lo || bins[i].index > hi || bins[i].count < 0) {
			c.Fail("sketch bin %d of count %g out of range", bins[i].index, bins[i].count)
		}
	}
	if !c.Reading() || c.Err() != nil {
		return
	}
	if zero < 0 {
		c.Fail("sketch zero count %g", zero)
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

func (a *alert) visit(c *snapshot.Codec) {
	c.Bool(&a.active)
	c.I64(&a.onset)
	c.I64(&a.last)
}

func (st *step) visit(c *snapshot.Codec, cfg *Config) {
	c.String(&st.key.service, cfg.MaxFieldLen)
	c.String(&st.key.op, cfg.MaxFieldLen)
	c.Finite(&st.present)
	c.Finite(&st.twice)
	c.Finite(&st.thrice)
	visitSketch(c, &st.dur, float64(cfg.StructMemory))
	c.I64(&st.bound)
	c.Int(&st.sinceBound)
}

func (fp *fingerprint) visit(c *snapshot.Codec, cfg *Config) {
	c.Finite(&fp.execs)
	c.Bool(&fp.unordered)
	n := c.Length(len(fp.list), 8, cfg.MaxSteps, "steps of an operation")
	if c.Reading() {
		fp.steps = make(map[stepKey]*step, n)
		fp.list = make([]*step, n)
	}
	for i := range fp.list {
		if c.Reading() {
			fp.list[i] = &step{}
		}
		st := fp.list[i]
		st.visit(c, cfg)
		if c.Reading() && c.Err() == nil {
			if fp.steps[st.key] != nil {
				c.Fail("step %s twice", st.key)
			}
			fp.steps[st.key] = st
		}
	}
	type seq struct {
		h uint64
		n float64
	}
	var seqs []seq
	if !c.Reading() {
		for _, h := range slices.Sorted(maps.Keys(fp.seqs)) {
			seqs = append(seqs, seq{h, fp.seqs[h]})
		}
	}
	n = c.Length(len(seqs), 16, maxSeqs, "call orders of an operation")
	if c.Reading() {
		seqs = make([]seq, n)
	}
	for i := range seqs {
		c.U64(&seqs[i].h)
		c.Finite(&seqs[i].n)
	}
	if c.Reading() && c.Err() == nil {
		if fp.unordered && n > 0 {
			c.Fail("call orders of an operation whose order is free")
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

func (sr *series) visit(c *snapshot.Codec, cfg *Config) {
	kind := uint64(sr.key.kind)
	c.U64(&kind)
	if c.Reading() && kind > uint64(kindTimeout) {
		c.Fail("series kind %d", kind)
	}
	sr.key.kind = skind(kind)
	c.String(&sr.key.a, cfg.MaxFieldLen)
	c.String(&sr.key.b, cfg.MaxFieldLen)
	c.I64(&sr.lastSeen)
	c.Int(&sr.learned)
	for _, p := range []*float64{&sr.mean, &sr.vin, &sr.vbet, &sr.en, &sr.ek, &sr.ed} {
		c.Finite(p)
	}
	for i := range sr.alerts {
		sr.alerts[i].visit(c)
	}
	// An operation has its self-time sketch (getSeries).
	if sr.key.kind == kindOp {
		visitSketch(c, &sr.self, float64(cfg.StructMemory))
	}
	has := sr.fp != nil
	c.Bool(&has)
	if has && c.Reading() {
		if sr.key.kind != kindOp {
			c.Fail("a fingerprint on a series of kind %d", sr.key.kind)
			return
		}
		sr.fp = &fingerprint{}
	}
	if has {
		sr.fp.visit(c, cfg)
	}
}

func (sl *locSlot) visit(c *snapshot.Codec) {
	for _, p := range []*int64{&sl.w, &sl.cp, &sl.errs, &sl.unreach, &sl.roots, &sl.traces, &sl.e2e} {
		c.I64(p)
	}
	c.Finite(&sl.cp2)
}

// visit saves the slots that hold a window; reading puts each back where
// its window belongs.
func (r *slots) visit(c *snapshot.Codec) {
	var used []int
	if !c.Reading() {
		for i := range r {
			if r[i].w >= 0 {
				used = append(used, i)
			}
		}
	}
	n := c.Length(len(used), 64, locRing, "localisation windows")
	for i := range n {
		var sl locSlot
		if !c.Reading() {
			sl = r[used[i]]
		}
		sl.visit(c)
		if c.Reading() && c.Err() == nil {
			if sl.w < 0 {
				c.Fail("localisation window %d", sl.w)
				return
			}
			r[uint64(sl.w)%locRing] = sl
		}
	}
}

func (l *svcLoc) visit(c *snapshot.Codec) {
	l.ring.visit(c)
	for _, p := range []*float64{&l.cp, &l.errs, &l.unreach, &l.roots, &l.seen, &l.cp2} {
		c.Finite(p)
	}
}

func (e *edge) visit(c *snapshot.Codec) {
	for _, p := range []*int64{&e.calls, &e.errs, &e.first, &e.last} {
		c.I64(p)
	}
	for i := range e.ring {
		c.I64(&e.ring[i].slot)
		c.I64(&e.ring[i].calls)
		c.I64(&e.ring[i].errs)
	}
	for i := range e.hist {
		h := &e.hist[i]
		has := h.q.s != nil
		c.Bool(&has)
		if has {
			c.I64(&h.epoch)
			visitSketch(c, &h.q, 0)
		}
	}
}

// visit lists the stage's learned state (see the comment at the top).
func (s *Stage) visit(c *snapshot.Codec) {
	cfg := &s.cfg
	c.I64(&s.lastNow)
	c.I64(&s.newest)
	c.I64(&s.aged)
	c.Finite(&s.gTraces)
	c.Finite(&s.gE2E)
	c.I64(&s.gWindows)
	c.I64(&s.locLearned)
	s.gring.visit(c)

	n := c.Length(len(s.series), 8, cfg.MaxSeries, "series")
	if c.Reading() {
		s.series = make(map[skey]*series, n)
		for range n {
			sr := &series{}
			sr.visit(c, cfg)
			if c.Err() != nil {
				return
			}
			if s.series[sr.key] != nil {
				c.Fail("series %d %s %s twice", sr.key.kind, sr.key.a, sr.key.b)
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

	n = c.Length(len(s.loc), 8, cfg.MaxSeries, "localised services")
	if c.Reading() {
		s.loc = make(map[string]*svcLoc, n)
		for range n {
			var svc string
			c.String(&svc, cfg.MaxFieldLen)
			l := &svcLoc{}
			for i := range l.ring {
				l.ring[i].w = -1
			}
			l.visit(c)
			if c.Err() != nil {
				return
			}
			s.loc[svc] = l
		}
	} else {
		for _, svc := range slices.Sorted(maps.Keys(s.loc)) {
			c.String(&svc, cfg.MaxFieldLen)
			s.loc[svc].visit(c)
		}
	}

	n = c.Length(len(s.edges), 8, cfg.MaxEdges, "edges")
	if c.Reading() {
		s.edges = make(map[ekey]*edge, n)
		for range n {
			var k ekey
			c.String(&k.caller, cfg.MaxFieldLen)
			c.String(&k.callee, cfg.MaxFieldLen)
			e := &edge{}
			e.visit(c)
			if c.Err() != nil {
				return
			}
			s.edges[k] = e
		}
	} else {
		for _, k := range slices.SortedFunc(maps.Keys(s.edges), func(a, b ekey) int {
			return cmp.Or(cmp.Compare(a.caller, b.caller), cmp.Compare(a.callee, b.callee))
		}) {
			c.String(&k.caller, cfg.MaxFieldLen)
			c.String(&k.callee, cfg.MaxFieldLen)
			s.edges[k].visit(c)
		}
	}

	n = c.Length(len(s.services), 16, cfg.MaxSeries, "services")
	if c.Reading() {
		s.services = make(map[string]int64, n)
		for range n {
			var svc string
			var last int64
			c.String(&svc, cfg.MaxFieldLen)
			c.I64(&last)
			s.services[svc] = last
		}
	} else {
		for _, svc := range slices.Sorted(maps.Keys(s.services)) {
			last := s.services[svc]
			c.String(&svc, cfg.MaxFieldLen)
			c.I64(&last)
		}
	}
	n = c.Length(len(s.callerOf), 16, cfg.MaxSeries, "callers")
	if c.Reading() {
		s.callerOf = make(map[string]string, n)
		for range n {
			var callee, caller string
			c.String(&callee, cfg.MaxFieldLen)
			c.String(&caller, cfg.MaxFieldLen)
			s.callerOf[callee] = caller
		}
	} else {
		for _, callee := range slices.Sorted(maps.Keys(s.callerOf)) {
			caller := s.callerOf[callee]
			c.String(&callee, cfg.MaxFieldLen)
			c.String(&caller, cfg.MaxFieldLen)
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
	c := snapshot.NewWriter(snapshotMagic, cfg)
	s.visit(c)
	return c.Result()
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing
// the stage's learned state; what is in flight (buffered traces, open
// windows) is dropped. On error (a corrupt file, a snapshot of a stage
// configured otherwise) the stage is left as it was.
func (s *Stage) UnmarshalBinary(data []byte) error {
	want, err := encodeConfig(s.cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	c, err := snapshot.NewReader(data, snapshotMagic, want)
	switch {
	case errors.Is(err, snapshot.ErrMagic):
		return fmt.Errorf("%w: not a seer trace stage snapshot (version %q expected)", ErrSnapshot, snapshotMagic)
	case errors.Is(err, snapshot.ErrHeader):
		return fmt.Errorf("%w: the trace detectors were configured otherwise when it was taken", ErrSnapshot)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	// Read into a fresh stage of the same configuration; the learned part
	// of it replaces this one's only when all of it was read.
	fresh := NewStage(s.cfg, nil)
	fresh.visit(c)
	if err := c.Finish(); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
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
