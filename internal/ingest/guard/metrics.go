package guard

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	items    *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	inFlight prometheus.Gauge
}

func newMetrics(name string, reg prometheus.Registerer) metrics {
	cl := prometheus.Labels{"receiver": name}
	m := metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_ingest_requests_total", ConstLabels: cl,
			Help: "Ingest requests by outcome: accepted, or the reason they were rejected.",
		}, []string{"outcome"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_ingest_items_total", ConstLabels: cl,
			Help: "Signals handed to the pipeline, by kind (samples, logs, spans, events).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_ingest_dropped_items_total", ConstLabels: cl,
			Help: "Items received but not handed on, by reason.",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seer_ingest_in_flight_requests", ConstLabels: cl,
			Help: "Ingest requests being decoded or handed on.",
		}),
	}
	if reg != nil {
		m.requests = Register(reg, m.requests)
		m.items = Register(reg, m.items)
		m.dropped = Register(reg, m.dropped)
		m.inFlight = Register(reg, m.inFlight)
	}
	return m
}

// Register adds c to reg, or reuses the collector already there, so that a
// receiver built twice on one registry counts into the same series.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
	}
	return c
}

// Requests is the counter of requests with the given outcome.
func (g *Guard) Requests(outcome string) prometheus.Counter {
	return g.m.requests.WithLabelValues(outcome)
}

// InFlight is the gauge of requests being handled.
func (g *Guard) InFlight() prometheus.Gauge { return g.m.inFlight }

// DroppedItems is the counter of items dropped for reason.
func (g *Guard) DroppedItems(reason string) prometheus.Counter {
	return g.m.dropped.WithLabelValues(reason)
}
