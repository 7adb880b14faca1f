package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/signal"
)

// engineMetrics are the engine's own: what it took in, what it shed, how
// long detection took and what it found. Queue depths come from the bus.
type engineMetrics struct {
	ingested        *prometheus.CounterVec
	rejected        *prometheus.CounterVec
	detectorSeconds *prometheus.HistogramVec
	observations    *prometheus.CounterVec
	incidents       prometheus.Counter
	silenced        prometheus.Counter
}

func newEngineMetrics(reg prometheus.Registerer, e *Engine) engineMetrics {
	m := engineMetrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_ingested_total", Help: "Signals taken into the pipeline, by signal.",
		}, []string{"signal"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_rejected_total", Help: "Signals rejected or shed, by signal and reason.",
		}, []string{"signal", "reason"}),
		detectorSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seer_detector_seconds", Help: "Time a detector took over one batch.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
		}, []string{"detector"}),
		observations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_observations_total", Help: "Observations recognised, by kind.",
		}, []string{"kind"}),
		incidents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seer_incidents_total", Help: "Incidents opened.",
		}),
		silenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seer_observations_silenced_total", Help: "Observations kept out of incidents by an operator's silence.",
		}),
	}
	placementsCut := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "seer_placements_cut_total", Help: "Placements of instances on hosts not remembered because 20,000 are.",
	}, func() float64 { return float64(e.services.cutCount()) })
	reg.MustRegister(m.ingested, m.rejected, m.detectorSeconds, m.observations, m.incidents, m.silenced, placementsCut, busCollector{e}, stageCollector{e}, newStateCollector(e))
	// Export every detector's series from the start, so that dashboards and
	// alerts see zeros rather than nothing.
	for _, d := range []string{"metric", "logs", "trace"} {
		m.detectorSeconds.WithLabelValues(d)
	}
	return m
}

func (m engineMetrics) countIngested(b *signal.Batch) {
	m.ingested.WithLabelValues("sample").Add(float64(len(b.Samples)))
	m.ingested.WithLabelValues("log").Add(float64(len(b.Logs)))
	m.ingested.WithLabelValues("span").Add(float64(len(b.Spans)))
	m.ingested.WithLabelValues("event").Add(float64(len(b.Events)))
}

func (m engineMetrics) shed(b *signal.Batch) {
	m.rejected.WithLabelValues("sample", "shed").Add(float64(len(b.Samples)))
	m.rejected.WithLabelValues("log", "shed").Add(float64(len(b.Logs)))
	m.rejected.WithLabelValues("span", "shed").Add(float64(len(b.Spans)))
	m.rejected.WithLabelValues("event", "shed").Add(float64(len(b.Events)))
}

var (
	busDepthDesc = prometheus.NewDesc("seer_bus_queue_depth", "Batches waiting in a consumer group's queues.", []string{"topic", "group"}, nil)
	busDoneDesc  = prometheus.NewDesc("seer_bus_handled_total", "Batches a consumer group consumed.", []string{"topic", "group"}, nil)
	busFailDesc  = prometheus.NewDesc("seer_bus_failed_total", "Batches whose consumer returned an error.", []string{"topic", "group"}, nil)
	busShedDesc  = prometheus.NewDesc("seer_bus_shed_total", "Batches shed because a queue stayed full.", []string{"topic"}, nil)
)

// busCollector reads the bus's counters at scrape time.
type busCollector struct{ e *Engine }

func (c busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- busDepthDesc
	ch <- busDoneDesc
	ch <- busFailDesc
	ch <- busShedDesc
}

func (c busCollector) Collect(ch chan<- prometheus.Metric) {
	shed := map[string]int64{}
	for _, s := range c.e.bus.Stats() {
		ch <- prometheus.MustNewConstMetric(busDepthDesc, prometheus.GaugeValue, float64(s.QueueDepth), string(s.Topic), s.Group)
		ch <- prometheus.MustNewConstMetric(busDoneDesc, prometheus.CounterValue, float64(s.Handled), string(s.Topic), s.Group)
		ch <- prometheus.MustNewConstMetric(busFailDesc, prometheus.CounterValue, float64(s.Failed), string(s.Topic), s.Group)
		shed[string(s.Topic)] = s.Shed
	}
	for t, n := range shed {
		ch <- prometheus.MustNewConstMetric(busShedDesc, prometheus.CounterValue, float64(n), t)
	}
}

var (
	rejectDesc = prometheus.NewDesc("seer_detector_rejected_total", "Signals a detector rejected, repaired or shed, by detector and reason.", []string{"detector", "reason"}, nil)
	seriesDesc = prometheus.NewDesc("seer_detector_series", "Series, operations or templates a detector holds state for.", []string{"detector"}, nil)
)

// stageCollector reads the detectors' own counters at scrape time: what
// they rejected as malformed, repaired or shed, and how much state they hold.
type stageCollector struct{ e *Engine }

func (c stageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rejectDesc
	ch <- seriesDesc
}

func (c stageCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(det, reason string, n float64) {
		ch <- prometheus.MustNewConstMetric(rejectDesc, prometheus.CounterValue, n, det, reason)
	}
	ms := c.e.metrics.Stats()
	counter("metric", "non_finite", float64(ms.NonFinite))
	counter("metric", "out_of_order", float64(ms.OutOfOrder))
	counter("metric", "series_limit", float64(ms.Dropped))
	ch <- prometheus.MustNewConstMetric(seriesDesc, prometheus.GaugeValue, float64(ms.Series), "metric")

	ts := c.e.trace.Stats()
	for reason, n := range ts.Rejected {
		counter("trace", "rejected_"+reason, float64(n))
	}
	for reason, n := range ts.Repaired {
		counter("trace", "repaired_"+reason, float64(n))
	}
	for reason, n := range ts.Shed {
		counter("trace", "shed_"+reason, float64(n))
	}
	counter("trace", "incomplete_trace", float64(ts.TracesIncomplete))
	ch <- prometheus.MustNewConstMetric(seriesDesc, prometheus.GaugeValue, float64(ts.Series), "trace")

	ls := c.e.logs.Stats()
	counter("logs", "empty", float64(ls.Empty))
	counter("logs", "truncated", float64(ls.Truncated))
	counter("logs", "invalid_utf8", float64(ls.InvalidUTF8))
	counter("logs", "evicted_template", float64(ls.Evicted))
	ch <- prometheus.MustNewConstMetric(seriesDesc, prometheus.GaugeValue, float64(c.e.logs.Len()), "logs")
}
