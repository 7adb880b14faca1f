package engine

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// Severity grades an incident by its top cause's score, the ranking's
// confidence: critical from 0.6, warning from 0.3, else info. The web UI
// grades the same way.
func Severity(in *signal.Incident) string {
	s := in.Top().Score
	switch {
	case s >= 0.6:
		return "critical"
	case s >= 0.3:
		return "warning"
	}
	return "info"
}

var (
	openDesc = prometheus.NewDesc("seer_open_incidents",
		"Open incidents (open or mitigating) by a service they involve and their severity; an incident counts under each of its services.",
		[]string{"service", "severity"}, nil)
	openCauseDesc = prometheus.NewDesc("seer_open_incident_causes",
		"Open incidents by their likely cause (the top-ranked entity; empty while none is ranked) and severity.",
		[]string{"cause", "severity"}, nil)
	scoreDesc = prometheus.NewDesc("seer_open_incident_entity_score",
		"The strongest anomaly score (0..1) among the findings of each entity in an open incident.",
		[]string{"entity"}, nil)
)

// maxOpenScraped bounds the open incidents (and their findings) a scrape
// reads, so that a flood of incidents cannot make /metrics slow.
const maxOpenScraped = 1000

// stateCollector exports seer's own state at scrape time, read from the
// knowledge store: what a dashboard of open trouble plots.
type stateCollector struct {
	e      *Engine
	errors prometheus.Counter
}

func newStateCollector(e *Engine) *stateCollector {
	return &stateCollector{e: e, errors: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "seer_state_scrape_errors_total",
		Help: "Scrapes whose open-incident series could not be read from the knowledge store."})}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- openCauseDesc
	ch <- scoreDesc
	c.errors.Describe(ch)
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	defer func() { ch <- c.errors }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var open []signal.Incident
	for _, st := range []signal.IncidentStatus{signal.IncidentOpen, signal.IncidentMitigating} {
		list, err := c.e.store.Incidents(ctx, knowledge.IncidentQuery{Status: st, Limit: maxOpenScraped})
		if err != nil {
			c.e.logger.Warn("reading open incidents for /metrics", "err", err)
			c.errors.Inc()
			return
		}
		open = append(open, list...)
	}
	type key struct{ name, sev string }
	byService, byCause := map[key]int{}, map[key]int{}
	var ids []int64
	for i := range open {
		in := &open[i]
		sev := Severity(in)
		for _, s := range in.Entities {
			byService[key{s, sev}]++
		}
		byCause[key{in.Top().Entity, sev}]++ // "" while no cause is ranked: the sum is every open incident
		ids = append(ids, in.ObservationIDs...)
	}
	for k, n := range byService {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n), k.name, k.sev)
	}
	for k, n := range byCause {
		ch <- prometheus.MustNewConstMetric(openCauseDesc, prometheus.GaugeValue, float64(n), k.name, k.sev)
	}
	if len(ids) == 0 {
		return
	}
	ids = ids[:min(len(ids), knowledgeMaxIDs)]
	obs, err := c.e.store.Observations(ctx, knowledge.ObservationQuery{IDs: ids, Limit: len(ids)})
	if err != nil {
		c.e.logger.Warn("reading open incidents' findings for /metrics", "err", err)
		c.errors.Inc()
		return
	}
	score := map[string]float64{}
	for _, o := range obs {
		score[o.Entity] = max(score[o.Entity], o.Score)
	}
	for ent, s := range score {
		ch <- prometheus.MustNewConstMetric(scoreDesc, prometheus.GaugeValue, s, ent)
	}
}

// knowledgeMaxIDs bounds the findings one scrape reads by id.
const knowledgeMaxIDs = 10000
