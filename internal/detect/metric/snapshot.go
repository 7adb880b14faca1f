package metric

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrSnapshot is wrapped by every error of UnmarshalBinary.
var ErrSnapshot = errors.New("metric stage snapshot")

// snapshotMagic starts every stage snapshot; the last byte is the format
// version, raised whenever a visit method below changes.
const snapshotMagic = "SEERMET\x03"

// codec reads or writes a snapshot field by field: each type lists its
// fields once (visit), for both directions, so that saving and restoring
// cannot drift apart. Errors are sticky; a read past the end, or a length
// longer than what is left, is one.
type codec struct {
	w   *bytes.Buffer // writing when set
	r   []byte        // else reading from here
	err error
}

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

func (c *codec) f64(p *float64) {
	u := math.Float64bits(*p)
	c.u64(&u)
	*p = math.Float64frombits(u)
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
	*p = v == 1
}

// zeroTime stands for the zero time, which has no Unix nanoseconds.
const zeroTime = math.MinInt64

func (c *codec) time(p *time.Time) {
	v := int64(zeroTime)
	if !p.IsZero() {
		v = p.UnixNano()
	}
	c.i64(&v)
	if c.w == nil {
		if v == zeroTime {
			*p = time.Time{}
		} else {
			*p = time.Unix(0, v).UTC()
		}
	}
}

// length writes n or reads a length of items of size bytes each, no more
// than what is left to read.
func (c *codec) length(n int, size int) int {
	v := int64(n)
	c.i64(&v)
	if c.w == nil && (v < 0 || v > int64(len(c.r)/size)) {
		c.fail("bad length %d", v)
		return 0
	}
	return int(v)
}

func (c *codec) f64s(p *[]float64) {
	n := c.length(len(*p), 8)
	if c.w == nil {
		*p = make([]float64, n)
	}
	for i := range *p {
		c.f64(&(*p)[i])
	}
}

// raw writes b, or reads len(b) bytes into it.
func (c *codec) raw(b []byte) {
	if c.w != nil {
		c.w.Write(b)
		return
	}
	if c.err != nil {
		return
	}
	if len(c.r) < len(b) {
		c.fail("truncated")
		return
	}
	copy(b, c.r)
	c.r = c.r[len(b):]
}

func (c *codec) f32s(p []float32) {
	b := make([]byte, 4*len(p))
	for i := range p {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(p[i]))
	}
	c.raw(b)
	for i := range p {
		p[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

func (c *codec) u16s(p []uint16) {
	b := make([]byte, 2*len(p))
	for i := range p {
		binary.LittleEndian.PutUint16(b[2*i:], p[i])
	}
	c.raw(b)
	for i := range p {
		p[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
}

func (r *run) visit(c *codec) {
	n, s := int64(r.n), int64(r.sign)
	c.time(&r.start)
	c.i64(&n)
	c.i64(&s)
	r.n, r.sign = int32(n), int8(s)
}

func (h *tail) visit(c *codec) {
	c.u16s(h.bins[:])
	top, age := int64(h.top), uint64(h.age)
	c.i64(&top)
	c.u64(&age)
	h.top, h.age = int16(top), uint16(age)
	if c.w == nil && (h.top < -1 || int(h.top) >= tailBins) {
		c.fail("tail top %d out of range", h.top)
	}
}

func (s *season) visit(c *codec) {
	if c.length(len(s.buf), 4) != len(s.buf) {
		c.fail("season buckets differ from the configuration's %d", len(s.buf))
		return
	}
	c.f32s(s.buf)
	c.f64(&s.ref)
	c.int(&s.bucket)
	c.int(&s.count)
	c.int(&s.pts)
	c.f64(&s.acc)
	c.int(&s.accN)
	c.int(&s.checkIn)
	c.int(&s.period)
	c.f64(&s.off)
	c.f64(&s.absR)
	c.int(&s.n)
	c.f64(&s.r)
	c.f64(&s.scale)
	c.f64(&s.e)
	c.bool(&s.ok)
	acf := []float32{s.acf}
	c.f32s(acf)
	s.acf = acf[0]
	s.tail.visit(c)
}

func (w *window) visit(c *codec) {
	size := len(w.t)
	c.f64s(&w.t)
	c.f64s(&w.y)
	if c.w == nil && (len(w.t) != size || len(w.y) != size) {
		c.fail("forecast window differs from the configuration's %d buckets", size)
		return
	}
	c.int(&w.count)
	c.int(&w.step)
	c.int(&w.refit)
	c.f64(&w.accT)
	c.f64(&w.accY)
	c.int(&w.accN)
	c.time(&w.origin)
	c.f32s(w.rises[:])
	c.f32s(w.gaps[:])
	c.int(&w.runN)
	c.f64(&w.lastT)
	c.f64(&w.lastV)
	c.int(&w.points)
	c.f64(&w.step1)
	c.bool(&w.fired)
	c.time(&w.lastFire)
	c.f64(&w.gate)
}

// visit lists every field of the detector but its configuration, which
// the stage makes again (see series.visit).
func (d *Detector) visit(c *codec) {
	c.int(&d.n)
	c.int(&d.skipped)
	c.int(&d.outOfOrder)
	c.time(&d.last)
	c.time(&d.first)
	for _, p := range []*float64{&d.level, &d.trend, &d.absDev, &d.up, &d.dn, &d.shift, &d.shiftNorm,
		&d.blipMean, &d.zThr, &d.shiftVar, &d.mean, &d.meanN} {
		c.f64(p)
	}
	d.band.visit(c)
	d.soft.visit(c)
	d.sea.visit(c)
	d.spikeT.visit(c)
	d.shiftT.visit(c)
	c.int(&d.devN)
	c.f64(&d.devPeak)
	c.f64(&d.devR)
	c.f64(&d.devSum)
	c.bool(&d.held)
	c.bool(&d.inRun)
	c.bool(&d.alarmed)
	c.int(&d.quiet)
	c.int(&d.runPoints)
	c.time(&d.runStart)
	c.time(&d.lastAlarm)
	c.f64(&d.lo)
	c.f64(&d.hi)
	c.f64(&d.rangePrev)
	c.f64(&d.pend)
	c.bool(&d.pending)
	// The season and the trend window exist as the configuration says.
	has := d.season != nil
	c.bool(&has)
	if has != (d.season != nil) {
		c.fail("seasonality differs from the configuration")
		return
	}
	if has {
		d.season.visit(c)
	}
	has = d.trendW != nil
	c.bool(&has)
	if has != (d.trendW != nil) {
		c.fail("forecasting differs from the configuration")
		return
	}
	if has {
		d.trendW.visit(c)
	}
	c.f64(&d.base)
	c.f64(&d.baseDev)
}

// visit lists the series' state and the parts of its configuration that the
// stage derived from its meaning (see newSeries).
func (s *series) visit(c *codec) {
	c.time(&s.lastEmit)
	c.bool(&s.emitted)
	c.f64(&s.peak)
	c.time(&s.lastSeen)
	c.bool(&s.negative)
	c.f64(&s.tokens)
	c.f64(&s.hi)
	c.f64(&s.lo)
	c.bool(&s.seenHi)
	c.bool(&s.free)
	c.bool(&s.judged)
	c.string(&s.mute)
}

func (c *codec) string(p *string) {
	n := c.length(len(*p), 1)
	if c.w != nil {
		c.w.WriteString(*p)
		return
	}
	if c.err != nil {
		return
	}
	*p, c.r = string(c.r[:n]), c.r[n:]
}

// seriesConfig is what newSeries sets in a series' configuration from its
// meaning.
type seriesConfig struct {
	minScale, limit float64
	forecast        bool
	ramp            time.Duration
}

func (sc *seriesConfig) visit(c *codec) {
	c.f64(&sc.minScale)
	c.f64(&sc.limit)
	c.bool(&sc.forecast)
	r := int64(sc.ramp)
	c.i64(&r)
	sc.ramp = time.Duration(r)
}

func (sc seriesConfig) apply(cfg Config) Config {
	cfg.MinScale, cfg.ForecastLimit, cfg.Forecast, cfg.ForecastRamp = sc.minScale, sc.limit, sc.forecast, sc.ramp
	return cfg
}

func configOf(cfg Config) seriesConfig {
	return seriesConfig{minScale: cfg.MinScale, limit: cfg.ForecastLimit, forecast: cfg.Forecast, ramp: cfg.ForecastRamp}
}

// MarshalBinary saves every series' detector and budget, so that a restart
// is not blind for the warm-up of each series. The stage's configuration is
// saved with it: a snapshot restores only into a stage configured the same.
func (s *Stage) MarshalBinary() ([]byte, error) {
	var cfg bytes.Buffer
	if err := gob.NewEncoder(&cfg).Encode(s.cfg); err != nil {
		return nil, fmt.Errorf("encoding the metric configuration: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(snapshotMagic)
	c := &codec{w: &b}
	cb := cfg.Bytes()
	n := c.length(len(cb), 1)
	b.Write(cb[:n])
	c.length(len(s.series), 1)
	for k, sr := range s.series {
		c.string(&k.entity)
		c.string(&k.name)
		c.string(&k.labels)
		sc := configOf(sr.d.cfg)
		sc.visit(c)
		sr.visit(c)
		sr.d.visit(c)
	}
	return b.Bytes(), c.err
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing the
// stage's series; on error (a corrupt file, a snapshot of a stage configured
// otherwise) the stage is left as it was.
func (s *Stage) UnmarshalBinary(data []byte) error {
	if len(data) < len(snapshotMagic) || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: not a seer metric stage snapshot (version %q expected)", ErrSnapshot, snapshotMagic)
	}
	var want bytes.Buffer
	if err := gob.NewEncoder(&want).Encode(s.cfg); err != nil {
		return fmt.Errorf("%w: encoding the metric configuration: %v", ErrSnapshot, err)
	}
	c := &codec{r: data[len(snapshotMagic):]}
	n := c.length(0, 1)
	if c.err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, c.err)
	}
	if !bytes.Equal(c.r[:n], want.Bytes()) {
		return fmt.Errorf("%w: the metric detectors were configured otherwise when it was taken", ErrSnapshot)
	}
	c.r = c.r[n:]
	count := c.length(0, 1)
	restored := make(map[key]*series, count)
	perEntity := map[string]int{}
	for range count {
		var k key
		c.string(&k.entity)
		c.string(&k.name)
		c.string(&k.labels)
		var sc seriesConfig
		sc.visit(c)
		if c.err != nil {
			break
		}
		d, err := NewDetector(sc.apply(s.cfg))
		if err != nil {
			return fmt.Errorf("%w: series %s %s: %v", ErrSnapshot, k.entity, k.name, err)
		}
		sr := &series{d: d}
		sr.visit(c)
		d.visit(c)
		if c.err != nil {
			break
		}
		restored[k] = sr
		perEntity[k.entity]++
	}
	if c.err == nil && len(c.r) != 0 {
		c.fail("%d bytes left over", len(c.r))
	}
	if c.err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, c.err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series, s.perEntity = restored, perEntity
	s.joints = make(map[string]*joint) // gathered again from the restored series
	s.full = false
	return nil
}
