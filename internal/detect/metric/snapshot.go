package metric

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/snapshot"
)

// ErrSnapshot is wrapped by every error of UnmarshalBinary.
var ErrSnapshot = errors.New("metric stage snapshot")

// snapshotMagic starts every stage snapshot; the last byte is the format
// version, raised whenever a visit method below changes.
const snapshotMagic = "SEERMET\x03"

func (r *run) visit(c *snapshot.Codec) {
	n, s := int64(r.n), int64(r.sign)
	c.Time(&r.start)
	c.I64(&n)
	c.I64(&s)
	r.n, r.sign = int32(n), int8(s)
}

func (h *tail) visit(c *snapshot.Codec) {
	c.U16s(h.bins[:])
	top, age := int64(h.top), uint64(h.age)
	c.I64(&top)
	c.U64(&age)
	h.top, h.age = int16(top), uint16(age)
	if c.Reading() && (h.top < -1 || int(h.top) >= tailBins) {
		c.Fail("tail top %d out of range", h.top)
	}
}

func (s *season) visit(c *snapshot.Codec) {
	if c.Length(len(s.buf), 4, 0, "items") != len(s.buf) {
		c.Fail("season buckets differ from the configuration's %d", len(s.buf))
		return
	}
	c.F32s(s.buf)
	c.F64(&s.ref)
	c.Int(&s.bucket)
	c.Int(&s.count)
	c.Int(&s.pts)
	c.F64(&s.acc)
	c.Int(&s.accN)
	c.Int(&s.checkIn)
	c.Int(&s.period)
	c.F64(&s.off)
	c.F64(&s.absR)
	c.Int(&s.n)
	c.F64(&s.r)
	c.F64(&s.scale)
	c.F64(&s.e)
	c.Bool(&s.ok)
	acf := []float32{s.acf}
	c.F32s(acf)
	s.acf = acf[0]
	s.tail.visit(c)
}

func (w *window) visit(c *snapshot.Codec) {
	size := len(w.t)
	c.F64s(&w.t)
	c.F64s(&w.y)
	if c.Reading() && (len(w.t) != size || len(w.y) != size) {
		c.Fail("forecast window differs from the configuration's %d buckets", size)
		return
	}
	c.Int(&w.count)
	c.Int(&w.step)
	c.Int(&w.refit)
	c.F64(&w.accT)
	c.F64(&w.accY)
	c.Int(&w.accN)
	c.Time(&w.origin)
	c.F32s(w.rises[:])
	c.F32s(w.gaps[:])
	c.Int(&w.runN)
	c.F64(&w.lastT)
	c.F64(&w.lastV)
	c.Int(&w.points)
	c.F64(&w.step1)
	c.Bool(&w.fired)
	c.Time(&w.lastFire)
	c.F64(&w.gate)
}

// visit lists every field of the detector but its configuration, which
// the stage makes again (see series.visit).
func (d *Detector) visit(c *snapshot.Codec) {
	c.Int(&d.n)
	c.Int(&d.skipped)
	c.Int(&d.outOfOrder)
	c.Time(&d.last)
	c.Time(&d.first)
	for _, p := range []*float64{&d.level, &d.trend, &d.absDev, &d.up, &d.dn, &d.shift, &d.shiftNorm,
		&d.blipMean, &d.zThr, &d.shiftVar, &d.mean, &d.meanN} {
		c.F64(p)
	}
	d.band.visit(c)
	d.soft.visit(c)
	d.sea.visit(c)
	d.spikeT.visit(c)
	d.shiftT.visit(c)
	c.Int(&d.devN)
	c.F64(&d.devPeak)
	c.F64(&d.devR)
	c.F64(&d.devSum)
	c.Bool(&d.held)
	c.Bool(&d.inRun)
	c.Bool(&d.alarmed)
	c.Int(&d.quiet)
	c.Int(&d.runPoints)
	c.Time(&d.runStart)
	c.Time(&d.lastAlarm)
	c.F64(&d.lo)
	c.F64(&d.hi)
	c.F64(&d.rangePrev)
	c.F64(&d.pend)
	c.Bool(&d.pending)
	// The season and the trend window exist as the configuration says.
	has := d.season != nil
	c.Bool(&has)
	if has != (d.season != nil) {
		c.Fail("seasonality differs from the configuration")
		return
	}
	if has {
		d.season.visit(c)
	}
	has = d.trendW != nil
	c.Bool(&has)
	if has != (d.trendW != nil) {
		c.Fail("forecasting differs from the configuration")
		return
	}
	if has {
		d.trendW.visit(c)
	}
	c.F64(&d.base)
	c.F64(&d.baseDev)
}

// visit lists the series' state and the parts of its configuration that the
// stage derived from its meaning (see newSeries).
func (s *series) visit(c *snapshot.Codec) {
	c.Time(&s.lastEmit)
	c.Bool(&s.emitted)
	c.F64(&s.peak)
	c.Time(&s.lastSeen)
	c.Bool(&s.negative)
	c.F64(&s.tokens)
	c.F64(&s.hi)
	c.F64(&s.lo)
	c.Bool(&s.seenHi)
	c.Bool(&s.free)
	c.Bool(&s.judged)
	c.String(&s.mute, 0)
}

// seriesConfig is what newSeries sets in a series' configuration from its
// meaning.
type seriesConfig struct {
	minScale, limit float64
	forecast        bool
	ramp            time.Duration
}

func (sc *seriesConfig) visit(c *snapshot.Codec) {
	c.F64(&sc.minScale)
	c.F64(&sc.limit)
	c.Bool(&sc.forecast)
	r := int64(sc.ramp)
	c.I64(&r)
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
	c := snapshot.NewWriter(snapshotMagic, cfg.Bytes())
	c.Length(len(s.series), 1, 0, "series")
	for k, sr := range s.series {
		c.String(&k.entity, 0)
		c.String(&k.name, 0)
		c.String(&k.labels, 0)
		sc := configOf(sr.d.cfg)
		sc.visit(c)
		sr.visit(c)
		sr.d.visit(c)
	}
	return c.Result()
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing the
// stage's series; on error (a corrupt file, a snapshot of a stage configured
// otherwise) the stage is left as it was.
func (s *Stage) UnmarshalBinary(data []byte) error {
	var want bytes.Buffer
	if err := gob.NewEncoder(&want).Encode(s.cfg); err != nil {
		return fmt.Errorf("%w: encoding the metric configuration: %v", ErrSnapshot, err)
	}
	c, err := snapshot.NewReader(data, snapshotMagic, want.Bytes())
	switch {
	case errors.Is(err, snapshot.ErrMagic):
		return fmt.Errorf("%w: not a seer metric stage snapshot (version %q expected)", ErrSnapshot, snapshotMagic)
	case errors.Is(err, snapshot.ErrHeader):
		return fmt.Errorf("%w: the metric detectors were configured otherwise when it was taken", ErrSnapshot)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	count := c.Length(0, 1, s.cfg.MaxSeries, "series")
	restored := make(map[key]*series, count)
	perEntity := map[string]int{}
	for range count {
		var k key
		c.String(&k.entity, 0)
		c.String(&k.name, 0)
		c.String(&k.labels, 0)
		var sc seriesConfig
		sc.visit(c)
		if c.Err() != nil {
			break
		}
		d, err := NewDetector(sc.apply(s.cfg))
		if err != nil {
			return fmt.Errorf("%w: series %s %s: %v", ErrSnapshot, k.entity, k.name, err)
		}
		sr := &series{d: d}
		sr.visit(c)
		d.visit(c)
		if c.Err() != nil {
			break
		}
		restored[k] = sr
		perEntity[k.entity]++
	}
	if err := c.Finish(); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series, s.perEntity = restored, perEntity
	s.joints = make(map[string]*joint) // gathered again from the restored series
	s.full = false
	return nil
}
