package api

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's own Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	rejected *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_api_requests_total",
			Help: "HTTP API requests by route and status code.",
		}, []string{"route", "code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_api_rejected_total",
			Help: "HTTP API requests rejected, by route and reason (bad input, unknown path or method, unavailable).",
		}, []string{"route", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seer_api_request_duration_seconds",
			Help:    "HTTP API request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	if reg == nil {
		return m
	}
	m.requests = register(reg, log, m.requests)
	m.rejected = register(reg, log, m.rejected)
	m.latency = register(reg, log, m.latency)
	return m
}

// register registers c, or shares the collector already registered under
// its name, so that a second Server on the same registry adds to the same
// series instead of failing.
func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("api metrics not registered", "err", err)
	return c
}
