package scrape

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/seerops/seer/internal/ingest/delta"
	"github.com/seerops/seer/internal/ingest/poll"
	"github.com/seerops/seer/internal/signal"
)

// The series every scrape yields besides the target's own.
const (
	NameUp       = "up"
	NameDuration = "scrape_duration_seconds"
)

// Sink takes the samples of one scrape; the engine's Ingest is one.
type Sink func(ctx context.Context, b *signal.Batch) error

// Stats counts what a Scraper did.
type Stats struct {
	Scrapes  uint64 `json:"scrapes"`
	Failures uint64 `json:"failures"`
	Samples  uint64 `json:"samples"`
	// Dropped counts samples beyond MaxSamples and series beyond MaxSeries.
	Dropped uint64 `json:"dropped"`
}

// Scraper scrapes the configured targets. It is safe for concurrent use.
type Scraper struct {
	cfg     Config
	client  *http.Client
	tracker *delta.Tracker
	log     *slog.Logger
	now     func() time.Time

	scrapes, failures, samples, dropped atomic.Uint64
}

// New returns a Scraper for a valid cfg.
func New(cfg Config, logger *slog.Logger) (*Scraper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dc := delta.DefaultConfig()
	dc.MaxSeries = cfg.MaxSeries
	return &Scraper{
		cfg:     cfg,
		client:  &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tracker: delta.New(dc),
		log:     logger.With("component", "ingest.scrape"),
		now:     time.Now,
	}, nil
}

// Stats returns the counters.
func (s *Scraper) Stats() Stats {
	return Stats{Scrapes: s.scrapes.Load(), Failures: s.failures.Load(), Samples: s.samples.Load(),
		Dropped: s.dropped.Load() + s.tracker.Dropped()}
}

// Run scrapes every target each Interval, starting at once, and hands each
// target's samples to sink, until ctx ends.
func (s *Scraper) Run(ctx context.Context, sink Sink) {
	poll.Run(ctx, s.cfg.Interval, s.cfg.Targets, s.Scrape, sink, func(tg Target, read bool, err error) {
		if read {
			s.log.Debug("scrape failed", "url", tg.URL, "entity", tg.Entity, "err", err)
			return
		}
		s.log.Warn("handing scraped samples on", "entity", tg.Entity, "err", err)
	})
}

// Scrape scrapes one target now. It always returns the `up` and duration
// samples; on failure the error says why and up is 0.
func (s *Scraper) Scrape(ctx context.Context, tg Target) ([]signal.Sample, error) {
	start := s.now()
	s.scrapes.Add(1)
	out, err := s.fetch(ctx, tg, start)
	up := 1.0
	if err != nil {
		s.failures.Add(1)
		up, out = 0, nil
	}
	base := signal.Sample{Time: start, Entity: tg.Entity, Labels: tg.Labels}
	base.Name, base.Value = NameUp, up
	out = append(out, base)
	base.Name, base.Value = NameDuration, s.now().Sub(start).Seconds()
	out = append(out, base)
	s.samples.Add(uint64(len(out)))
	return out, err
}

func (s *Scraper) fetch(ctx context.Context, tg Target, now time.Time) ([]signal.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(s.cfg.Timeout.Seconds(), 'f', -1, 64))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", tg.URL, resp.Status)
	}
	body := io.LimitReader(resp.Body, s.cfg.MaxBody+1)
	lr := &countingReader{r: body}
	fams, err := Parse(lr)
	if lr.n > s.cfg.MaxBody {
		return nil, fmt.Errorf("%s: the metrics are over max_body (%d bytes)", tg.URL, s.cfg.MaxBody)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tg.URL, err)
	}
	return s.convert(fams, tg, now), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Parse reads the Prometheus text exposition format.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing the metrics: %w", err)
	}
	return fams, nil
}

// convert turns the families into samples stamped now: gauges and untyped
// as they are, counters as rates, summaries as their quantiles and the
// rate of their count, histograms as rate and quantiles of the window.
func (s *Scraper) convert(fams map[string]*dto.MetricFamily, tg Target, now time.Time) []signal.Sample {
	var out []signal.Sample
	full := false
	add := func(smp signal.Sample) {
		if len(out) >= s.cfg.MaxSamples {
			full = true
			s.dropped.Add(1)
			return
		}
		if math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) {
			return
		}
		out = append(out, smp)
	}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			smp := signal.Sample{Time: now, Entity: tg.Entity, Name: name, Labels: labels(m, tg.Labels)}
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				if r, ok := s.tracker.Rate(smp.SeriesKey(), now, m.GetCounter().GetValue(), startOf(m.GetCounter().GetCreatedTimestamp())); ok {
					smp.Name, smp.Value = delta.RateName(name), r
					add(smp)
				}
			case dto.MetricType_GAUGE:
				smp.Value = m.GetGauge().GetValue()
				add(smp)
			case dto.MetricType_UNTYPED:
				smp.Value = m.GetUntyped().GetValue()
				add(smp)
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					qs := smp
					qs.Name, qs.Value = name+"_p"+quantileSuffix(q.GetQuantile()), q.GetValue()
					add(qs)
				}
				if r, ok := s.tracker.Rate(smp.SeriesKey()+"|count", now, float64(sm.GetSampleCount()), startOf(sm.GetCreatedTimestamp())); ok {
					smp.Name, smp.Value = name+"_rate", r
					add(smp)
				}
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				bounds, counts := buckets(h)
				if w, ok := s.tracker.Histogram(smp.SeriesKey(), now, startOf(h.GetCreatedTimestamp()), bounds, counts, h.GetSampleSum()); ok {
					for _, x := range delta.AppendWindow(nil, smp, name, w) {
						add(x)
					}
				}
			}
		}
	}
	if full {
		s.log.Warn("a scrape had more samples than max_samples; the rest were dropped", "url", tg.URL, "max_samples", s.cfg.MaxSamples)
	}
	return out
}

// startOf is when a series began counting, when the target says so.
func startOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// quantileSuffix writes 0.99 as "99", 0.5 as "50", 0.999 as "99.9".
func quantileSuffix(q float64) string {
	return strconv.FormatFloat(q*100, 'f', -1, 64)
}

// buckets turns cumulative buckets into per-bucket counts, the last one
// above every finite bound, as delta.Tracker.Histogram takes them.
func buckets(h *dto.Histogram) ([]float64, []float64) {
	var bounds, counts []float64
	var prev float64
	for _, b := range h.GetBucket() {
		ub := b.GetUpperBound()
		if math.IsInf(ub, 1) {
			continue
		}
		c := float64(b.GetCumulativeCount())
		bounds = append(bounds, ub)
		counts = append(counts, max(0, c-prev))
		prev = c
	}
	counts = append(counts, max(0, float64(h.GetSampleCount())-prev))
	return bounds, counts
}

func labels(m *dto.Metric, extra map[string]string) map[string]string {
	if len(m.GetLabel()) == 0 && len(extra) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.GetLabel())+len(extra))
	for k, v := range extra {
		out[k] = v
	}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
