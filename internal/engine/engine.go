package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seerops/seer/internal/api"
	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/bus"
	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/detect/metric"
	"github.com/seerops/seer/internal/detect/trace"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/ingest/alertmanager"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/ingest/probe"
	"github.com/seerops/seer/internal/ingest/scrape"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/knowledge/sqlite"
	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/silence"
	"github.com/seerops/seer/internal/ui"
)

// Hooks let a caller watch the pipeline (the demo's live timeline, tests).
// They are called synchronously from the stage that produced the value and
// must not block.
type Hooks struct {
	// Observation is called for every stored observation.
	Observation func(signal.Observation)
	// Incident is called for every incident created or changed, after it
	// has been stored and its runbook planned.
	Incident func(signal.Incident)
}

// Engine is seer's pipeline in one process.
type Engine struct {
	cfg    Config
	logger *slog.Logger
	hooks  Hooks

	bus     *bus.Memory
	store   knowledge.Store
	metrics *metric.Stage
	logs    *logs.Stage
	trace   *trace.Stage
	remedy  *remedy.Manager
	scraper *scrape.Scraper
	prober  *probe.Prober

	// inferMu serialises inference and incident persistence: the observation
	// consumer and Tick both change incidents.
	inferMu  sync.Mutex
	inferrer *infer.Inferrer

	in       ingest
	services services
	orphans  orphans             // incidents the last run left open
	mem      *memlimit.Limiter   // nil: no memory limit
	silences *silence.Set        // operators' silences
	auth     *auth.Authenticator // nil: authentication off
	clock    dataClock
	reg      *prometheus.Registry
	m        engineMetrics
	api      http.Handler

	// apiTLS and otlpTLS are the TLS of the API's and OTLP/HTTP's
	// listeners; nil serves plain HTTP.
	apiTLS, otlpTLS *tls.Config
	// stream carries incident changes to the API's event stream clients.
	stream *api.Stream
}

// New opens the knowledge store under cfg.DataDir and assembles the pipeline.
// Close releases it.
func New(ctx context.Context, cfg Config, logger *slog.Logger, hooks Hooks) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	authn, err := cfg.authenticator()
	if err != nil {
		return nil, err
	}
	apiTLS, err := cfg.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: tls: %w", err)
	}
	otlpTLS, err := cfg.OTLP.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: otlp.tls: %w", err)
	}
	// One byte budget for the receivers and the bus.
	mem, err := memlimit.New(cfg.Memory)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: memory: %w", err)
	}
	cfg.Bus.Memory, cfg.OTLP.Limits.Memory, cfg.RemoteWrite.Limits.Memory, cfg.Alertmanager.Limits.Memory = mem, mem, mem, mem
	store, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "seer.db"), logger)
	if err != nil {
		return nil, fmt.Errorf("opening the knowledge store in %s: %w", cfg.DataDir, err)
	}
	b, err := bus.NewMemory(cfg.Bus, logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	e := &Engine{
		cfg:     cfg,
		logger:  logger.With("component", "engine"),
		hooks:   hooks,
		bus:     b,
		store:   store,
		metrics: metric.NewStage(cfg.Metric, logger),
		logs:    logs.NewStage(cfg.Logs, logger),
		trace:   trace.NewStage(cfg.Trace, logger),
		reg:     prometheus.NewRegistry(),
		auth:    authn,
		mem:     mem,
		apiTLS:  apiTLS,
		otlpTLS: otlpTLS,
		stream:  api.NewStream(0, 0),
	}
	if len(cfg.Topology.Edges) > 0 || len(cfg.Topology.Services) > 0 {
		e.trace.Declare(cfg.Topology)
	}
	if err := e.setupRemedy(ctx, logger); err != nil {
		b.Close()
		store.Close()
		return nil, err
	}
	e.inferrer = infer.New(cfg.Infer, e.inferTopology, logger)
	e.metrics.UseSemantics(e.inferrer.Semantics())
	e.restoreState()
	if e.silences, err = loadSilences(ctx, store); err != nil {
		e.Close()
		return nil, err
	}
	// What was learned before a restart: mined and written rules, and the
	// ranking weights operators' feedback shifted.
	rules, err := store.Rules(ctx)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("loading the rules: %w", err)
	}
	e.inferrer.SetRules(rules)
	past, err := store.Incidents(ctx, knowledge.IncidentQuery{Limit: 10000})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("loading past incidents: %w", err)
	}
	e.inferrer.LoadFeedback(past)
	e.restoreKnownFailures(ctx, past)
	if n := e.orphans.adopt(past); n > 0 {
		e.logger.Info("incidents left open by the last run; resolved once quiet", "incidents", n)
	}
	e.m = newEngineMetrics(e.reg, e)
	e.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seer_memory_queued_bytes",
			Help: "Bytes the receivers and the bus hold for clients (an estimate), counted against memory.limit_bytes."},
			func() float64 { return float64(mem.Queued()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "seer_memory_refused_total",
			Help: "Requests refused (429, gRPC RESOURCE_EXHAUSTED) because seer was above its memory's soft limit."},
			func() float64 { return float64(mem.Refused()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seer_api_stream_clients",
			Help: "Clients listening to the incident event stream (GET /api/v1/stream)."},
			func() float64 { return float64(e.stream.Clients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "seer_api_stream_dropped_total",
			Help: "Event stream clients dropped because they fell too far behind."},
			func() float64 { return float64(e.stream.Dropped()) }),
	)
	e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := errors.Join(
		b.Subscribe(bus.Signals, "detect", e.detect),
		b.Subscribe(bus.Observations, "infer", e.infer),
	); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.setupIngest(logger); err != nil {
		e.Close()
		return nil, err
	}
	apiLimits, err := guard.New("api", cfg.APILimits, e.reg)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("api_limits: %w", err)
	}
	e.api = e.routes(api.New(api.Deps{
		Store:      store,
		Topology:   e.Topology,
		Events:     e.IngestEvent,
		Ready:      func() error { return nil },
		Metrics:    promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Registry: e.reg}),
		Registerer: e.reg,
		Now:        time.Now,
		Remedy:     e.remedy,
		Feedback:   &api.Feedback{Store: store, Learn: learner{e}, Now: time.Now},
		Auth:       authn,
		Investigate: func(at time.Time, entity string) []signal.Cause {
			return e.inferrer.Investigate(at, entity)
		},
		Series:    e.series,
		UI:        ui.Handler(),
		Clock:     func() time.Time { return e.clock.now(time.Now()) },
		Lifecycle: e.Act,
		Audit:     store.AuditLog,
		Silences:  e.silences,
		Incidents: e.stream,
		Logs:      e.logHistory,
		Traces:    e.exemplar,
	}, logger), apiLimits)
	return e, nil
}

// series reads a metric series' recent points from inference's window for
// the UI's evidence plots.
func (e *Engine) series(entity, name string, from, to time.Time) []api.Series {
	list := e.inferrer.Window().Series(entity, name, from, to)
	out := make([]api.Series, len(list))
	for i, sd := range list {
		pts := make([][2]float64, 0, len(sd.Points))
		for _, p := range sd.Points {
			if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) { // JSON has no NaN; a gap plots as one
				continue
			}
			pts = append(pts, [2]float64{float64(p.Time.UnixMilli()) / 1e3, p.Value})
		}
		out[i] = api.Series{Entity: sd.Entity, Name: sd.Name, Labels: sd.Labels, Points: pts}
	}
	return out
}

// logHistory reads what the log stage keeps of a template for the UI's log
// evidence.
func (e *Engine) logHistory(entity string, id uint64) (api.LogTemplate, bool) {
	h, ok := e.logs.History(entity, id)
	if !ok {
		return api.LogTemplate{}, false
	}
	out := api.LogTemplate{Template: h.Template, WindowSeconds: h.Window.Seconds(), Examples: h.Examples,
		Windows: make([]api.LogWindow, len(h.Windows))}
	for i, w := range h.Windows {
		out.Windows[i] = api.LogWindow{Start: w.Start, Count: w.Count}
	}
	return out, true
}

// exemplar reads an example trace the trace stage keeps for the UI's
// waterfall.
func (e *Engine) exemplar(id string) ([]api.TraceSpan, bool) {
	ex, ok := e.trace.Exemplar(id)
	if !ok {
		return nil, false
	}
	out := make([]api.TraceSpan, len(ex.Spans))
	for i, sp := range ex.Spans {
		out[i] = api.TraceSpan{ID: sp.ID, Parent: sp.Parent, Service: sp.Service, Operation: sp.Operation, Peer: sp.Peer,
			Start: sp.Start, End: sp.End, Client: sp.Client, Error: sp.Error, ErrorType: sp.ErrorType}
	}
	return out, true
}

// Act takes an operator's action on a stored incident (infer.ActionAck,
// ActionResolve, ActionReopen) and stores the result; an acknowledgement's
// assignee is kept in the incident's labels.
func (e *Engine) Act(ctx context.Context, id int64, op api.Operation) (signal.Incident, error) {
	e.inferMu.Lock()
	defer e.inferMu.Unlock()
	in, err := e.store.Incident(ctx, id)
	if err != nil {
		return in, err
	}
	out, err := e.inferrer.Apply(in, op.Action, op.By, e.clock.now(time.Now()))
	if errors.Is(err, infer.ErrTransition) {
		return in, fmt.Errorf("%w: %v", api.ErrTransition, err)
	}
	if err != nil {
		return in, err
	}
	keepOperatorLabels(&out, in) // inference's copy lacks what operators recorded
	if op.Assignee != "" {
		out.Labels = maps.Clone(out.Labels)
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		out.Labels[api.LabelAssignee] = op.Assignee
	}
	if err := e.store.PutIncident(ctx, &out); err != nil {
		return in, fmt.Errorf("storing incident %d: %w", id, err)
	}
	e.logger.Info("incident "+op.Action, "id", id, "by", op.By, "assignee", op.Assignee, "status", out.Status)
	e.stream.Publish(out)
	return out, nil
}

// pruneEvery is how often retention is enforced.
const pruneEvery = 10 * time.Minute

// pruner is a store that can delete what is past its retention.
type pruner interface {
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Prune deletes the observations, events and resolved incidents older than
// Retention before now, in bounded batches, at most a few thousand rows a
// batch and a hundred batches a call; it returns how many rows went.
func (e *Engine) Prune(ctx context.Context, now time.Time) int {
	p, ok := e.store.(pruner)
	if !ok || e.cfg.Retention <= 0 {
		return 0
	}
	total := 0
	for range 100 {
		n, err := p.Prune(ctx, now.Add(-e.cfg.Retention))
		total += n
		if err != nil {
			if ctx.Err() == nil {
				e.logger.Warn("enforcing retention", "err", err)
			}
			break
		}
		if n == 0 {
			break
		}
	}
	if total > 0 {
		e.logger.Info("retention enforced", "deleted", total, "retention", e.cfg.Retention)
	}
	return total
}

// Store is the knowledge repository the engine writes to.
func (e *Engine) Store() knowledge.Store { return e.store }

// Handler serves the HTTP API, /metrics and the health checks.
func (e *Engine) Handler() http.Handler { return e.api }

// SetWeights replaces the ranking weights operators' feedback has learned
// with w: what was learned on another instance, or, in an evaluation, on
// other cases.
func (e *Engine) SetWeights(w infer.Weights) { e.inferrer.SetWeights(w) }

// Topology is the service graph discovered from traces and declared, with
// the services seen only in metrics, logs or events among its services.
func (e *Engine) Topology() signal.Topology { return e.services.merge(e.trace.Topology()) }

// inferTopology is what inference reads: the call graph of the traces and
// the declared topology, and every placement of an instance on a host,
// declared or learned from the signals.
func (e *Engine) inferTopology() signal.Topology {
	t := e.trace.Topology()
	t.Placements = e.services.placements(e.cfg.Topology.Placements)
	return t
}

// Ingest hands a batch of telemetry and events to the pipeline. Signals are
// published per entity (spans per trace), so that a partitioned bus keeps
// each entity's state in one consumer. Signals whose entity is not a valid
// name (signal.CheckEntity) are dropped and counted; the rest go on.
//
// Events (changes and alarms) are committed to the knowledge store before
// Ingest returns, so that a caller told they were taken (the events API's
// 202, the Alertmanager webhook's 200) has them even if the process dies
// the next moment; telemetry is best-effort, like any remote_write or OTLP
// receiver that has not written it yet.
func (e *Engine) Ingest(ctx context.Context, b *signal.Batch) error {
	e.dropInvalidEntities(b)
	if err := e.storeEvents(ctx, b.Events); err != nil {
		return err
	}
	e.services.observe(b)
	e.m.countIngested(b)
	// The clock moves once the batch is queued, so that a Tick at its
	// time finds it on the bus to wait for.
	defer e.clock.observe(b)
	if e.cfg.Bus.Sync {
		return e.bus.Publish(ctx, bus.Signals, "", b)
	}
	var errs []error
	for key, part := range split(b) {
		if err := e.bus.Publish(ctx, bus.Signals, key, part); err != nil {
			e.m.shed(part)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// storeEvents commits the events not stored yet and sets their IDs.
func (e *Engine) storeEvents(ctx context.Context, evs []signal.Event) error {
	for i := range evs {
		if evs[i].ID != 0 {
			continue
		}
		if err := e.store.AddEvent(ctx, &evs[i]); err != nil {
			return fmt.Errorf("storing event: %w", err)
		}
	}
	return nil
}

// IngestEvent hands one change event or alarm to the pipeline; above the
// memory's soft limit it refuses (memlimit.ErrFull), as the receivers do.
func (e *Engine) IngestEvent(ctx context.Context, ev signal.Event) error {
	if err := e.mem.Check(); err != nil {
		return err
	}
	return e.Ingest(ctx, &signal.Batch{Events: []signal.Event{ev}})
}

// split groups a batch by partition key: the entity, or the trace for spans.
func split(b *signal.Batch) map[string]*signal.Batch {
	out := make(map[string]*signal.Batch)
	get := func(k string) *signal.Batch {
		p, ok := out[k]
		if !ok {
			p = &signal.Batch{}
			out[k] = p
		}
		return p
	}
	for _, s := range b.Samples {
		p := get(s.Entity)
		p.Samples = append(p.Samples, s)
	}
	for _, l := range b.Logs {
		p := get(l.Entity)
		p.Logs = append(p.Logs, l)
	}
	for _, s := range b.Spans {
		p := get("trace:" + s.TraceID)
		p.Spans = append(p.Spans, s)
	}
	for _, ev := range b.Events {
		p := get(ev.Entity)
		p.Events = append(p.Events, ev)
	}
	return out
}

// detect is the detectors' consumer of the signals topic.
func (e *Engine) detect(ctx context.Context, b *signal.Batch) error {
	var obs []signal.Observation
	if len(b.Samples) > 0 {
		start := time.Now()
		obs = append(obs, e.metrics.Process(b.Samples)...)
		// Recent values feed the change scores of root-cause ranking.
		e.inferrer.AddSamples(b.Samples)
		e.m.detectorSeconds.WithLabelValues("metric").Observe(time.Since(start).Seconds())
	}
	if len(b.Logs) > 0 {
		start := time.Now()
		obs = append(obs, e.logs.Process(b.Logs)...)
		e.inferrer.AddLogs(b.Logs)
		e.m.detectorSeconds.WithLabelValues("logs").Observe(time.Since(start).Seconds())
	}
	if len(b.Spans) > 0 {
		start := time.Now()
		obs = append(obs, e.trace.Process(b.Spans)...)
		e.m.detectorSeconds.WithLabelValues("trace").Observe(time.Since(start).Seconds())
	}
	if len(b.Events) > 0 {
		evObs, err := e.events(ctx, b.Events)
		if err != nil {
			return err
		}
		obs = append(obs, evObs...)
	}
	return e.publishObservations(ctx, obs)
}

func (e *Engine) publishObservations(ctx context.Context, obs []signal.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	return e.bus.Publish(ctx, bus.Observations, "", &signal.Batch{Observations: obs})
}

// events stores change events and alarms, hands them to inference for the
// change analysis, and turns each into an observation.
func (e *Engine) events(ctx context.Context, evs []signal.Event) ([]signal.Observation, error) {
	obs := make([]signal.Observation, 0, len(evs))
	for i := range evs {
		if err := e.storeEvents(ctx, evs[i:i+1]); err != nil { // stored by Ingest unless published directly
			return nil, err
		}
		ev := evs[i]
		kind, score, name := signal.Change, 0.3, string(ev.Kind)
		if ev.Kind == signal.EventAlarm {
			if ev.Attrs["status"] == "resolved" || ev.Attrs[alertmanager.AttrHeartbeat] == "true" {
				// Kept in the repository as history; not a symptom.
				continue
			}
			// An alarm is named by its rule: two different alerts on one
			// service are two symptoms, and only the same one returning
			// reopens an incident.
			kind, score, name = signal.Alarm, alarmScore(ev.Attrs["severity"]), cmp.Or(ev.Attrs["alertname"], name)
		}
		obs = append(obs, signal.Observation{
			Time: ev.Time, Start: ev.Time, Entity: ev.Entity, Kind: kind, Name: name,
			Score: score, Summary: fmt.Sprintf("%s on %s: %s", ev.Kind, ev.Entity, ev.Text),
			Evidence: map[string]string{"event_id": fmt.Sprint(ev.ID), "source": ev.Source},
		})
	}
	e.inferMu.Lock()
	e.inferrer.AddEvents(evs)
	e.inferMu.Unlock()
	return obs, nil
}

// alarmScore weighs an alarm by its severity label: a critical alert is
// near-certain trouble, a warning likely, an info hardly a symptom. An
// alarm that gives none is taken for a warning.
func alarmScore(severity string) float64 {
	switch strings.ToLower(severity) {
	case "":
		return 0.7
	case "page", "high", "major", "p1":
		return 0.95
	case "minor", "medium", "p3":
		return 0.7
	case "low", "p4", "p5":
		return 0.45
	}
	switch signal.ParseSeverity(severity) {
	case signal.SeverityFatal:
		return 0.95
	case signal.SeverityError:
		return 0.9
	case signal.SeverityWarn:
		return 0.7
	case signal.SeverityDebug:
		return 0.3
	}
	return 0.45
}

// infer is the consumer of the observations topic: store, correlate, rank,
// plan.
func (e *Engine) infer(ctx context.Context, b *signal.Batch) error {
	obs := b.Observations
	if err := e.store.AddObservations(ctx, obs); err != nil {
		return fmt.Errorf("storing observations: %w", err)
	}
	for _, o := range obs {
		e.m.observations.WithLabelValues(string(o.Kind)).Inc()
		if e.hooks.Observation != nil {
			e.hooks.Observation(o)
		}
	}
	// What a silence mutes stays on record but opens and joins no
	// incident.
	live := make([]signal.Observation, 0, len(obs))
	for i := range obs {
		if e.silences.Match(&obs[i]) != "" {
			e.m.silenced.Inc()
			continue
		}
		live = append(live, obs[i])
	}
	e.inferMu.Lock()
	defer e.inferMu.Unlock()
	return e.persist(ctx, e.inferrer.Add(live), latest(obs))
}

// silencesKey is the store's state document that holds the silences.
const silencesKey = "silences"

// loadSilences restores the silences from the store, which saves every
// change before it is acknowledged; a store without state documents keeps
// them in memory only.
func loadSilences(ctx context.Context, store knowledge.Store) (*silence.Set, error) {
	docs, ok := store.(interface {
		State(ctx context.Context, key string) ([]byte, error)
		PutState(ctx context.Context, key string, value []byte) error
	})
	if !ok {
		return silence.NewSet(nil, nil)
	}
	data, err := docs.State(ctx, silencesKey)
	if err != nil {
		return nil, fmt.Errorf("loading the silences: %w", err)
	}
	set, err := silence.NewSet(data, func(b []byte) error {
		return docs.PutState(context.WithoutCancel(ctx), silencesKey, b)
	})
	if err != nil {
		return nil, fmt.Errorf("%w (the document %q of the store)", err, silencesKey)
	}
	return set, nil
}

func latest(obs []signal.Observation) time.Time {
	var t time.Time
	for _, o := range obs {
		if o.Time.After(t) {
			t = o.Time
		}
	}
	return t
}

// keepOperatorLabels copies onto in the labels of the stored incident that
// in lacks: what operators recorded (a confirmed or rejected cause, their
// own labels) while inference went on updating its copy, which would
// otherwise overwrite them. The labels inference sets itself are its own.
func keepOperatorLabels(in *signal.Incident, stored signal.Incident) {
	var add map[string]string
	for k, v := range stored.Labels {
		if _, ok := in.Labels[k]; !ok && k != infer.LabelRules {
			if add == nil {
				add = map[string]string{}
			}
			add[k] = v
		}
	}
	if add == nil {
		return
	}
	in.Labels = maps.Clone(in.Labels) // the snapshot's map may be inference's own
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	maps.Copy(in.Labels, add)
}

// persist stores changed incidents and plans their runbooks (planning again
// an unchanged diagnosis is cheap and audits nothing new). The caller holds
// inferMu.
func (e *Engine) persist(ctx context.Context, changed []*signal.Incident, now time.Time) error {
	var errs []error
	for _, in := range changed {
		if in.ID == 0 {
			e.m.incidents.Inc()
		} else if stored, err := e.store.Incident(ctx, in.ID); err == nil {
			keepOperatorLabels(in, stored)
		}
		if err := e.store.PutIncident(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("storing incident: %w", err))
			continue
		}
		// The inferrer hands out copies; it learns the stored ID here so
		// that the next change of this incident updates it.
		e.inferrer.Bind(in)
		if in.Status != signal.IncidentResolved && len(in.Causes) > 0 {
			nom, err := e.remedy.Handle(ctx, in, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("planning incident %d: %w", in.ID, err))
			} else if nom != nil {
				in.Runbook = nom
				if err := e.store.PutIncident(ctx, in); err != nil {
					errs = append(errs, fmt.Errorf("storing incident: %w", err))
				}
			}
		}
		if len(e.in.notifier) > 0 {
			// Notifiers queue and never block; a full queue is counted.
			if err := e.in.notifier.Notify(ctx, *in); err != nil {
				e.logger.Warn("notifying", "incident", in.ID, "err", err)
			}
		}
		e.stream.Publish(*in) // never blocks: a slow client is dropped
		if e.hooks.Incident != nil {
			e.hooks.Incident(*in)
		}
	}
	return errors.Join(errs...)
}

// Tick advances the time-driven stages to now: traces that completed, log
// rates of windows that closed, incidents that went quiet.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	// What was ingested by now goes through the detectors first: the
	// stages close their windows at now, and a record still queued for a
	// window closed would be late (spans rejected as stale, log records
	// counted in the next window as a burst). The clock is the newest
	// time ingested, so a pipeline lagging it (a backfill, a loaded
	// machine) would otherwise see noise that depends on its lag.
	if err := e.bus.Flush(ctx); err != nil {
		return err
	}
	obs := e.trace.Tick(now)
	// The series derived from the traces analysed feed investigations.
	e.inferrer.AddSamples(e.trace.Series(now))
	obs = append(obs, e.logs.Tick(now)...)
	obs = append(obs, e.inferrer.Sweep(now)...)
	if err := e.publishObservations(ctx, obs); err != nil {
		return err
	}
	if err := e.bus.Flush(ctx); err != nil {
		return err
	}
	e.inferMu.Lock()
	err := e.persist(ctx, e.inferrer.Tick(now), now)
	e.inferMu.Unlock()
	err = errors.Join(err, e.resolveOrphans(ctx, now))
	// Verification reads what persist stored; it needs no inference lock.
	return errors.Join(err, e.remedy.Tick(ctx, now))
}

// Flush waits until everything ingested so far has gone through the pipeline.
func (e *Engine) Flush(ctx context.Context) error { return e.bus.Flush(ctx) }

// Run serves the API on cfg.HTTPAddr and ticks the engine with the wall
// clock until ctx ends; then it shuts down gracefully: the server stops
// taking requests, the bus drains and the store is closed by Close.
func (e *Engine) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s (set http_addr or --http to a free address): %w", e.cfg.HTTPAddr, err)
	}
	return e.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened; the engine adds TLS when
// the configuration asks for it.
func (e *Engine) Serve(ctx context.Context, ln net.Listener) error {
	srv := NewHTTPServer(e.api)
	srv.RegisterOnShutdown(e.stream.Close) // the event streams never end by themselves
	served := make(chan error, 1)
	go func() { served <- serveHTTP(srv, ln, e.apiTLS) }()
	stopLive := e.startLive(ctx)
	defer stopLive()
	stopIngest, err := e.startIngest(ctx)
	if err != nil {
		srv.Close()
		return errors.Join(err, stopIngest(context.WithoutCancel(ctx)))
	}
	e.logger.Info("serving", "addr", ln.Addr().String(), "ui", scheme(e.apiTLS)+"://"+ln.Addr().String()+"/")

	ticker := time.NewTicker(e.cfg.Tick)
	defer ticker.Stop()
	var mine, checkpoint <-chan time.Time
	if e.cfg.Checkpoint > 0 {
		t := time.NewTicker(e.cfg.Checkpoint)
		defer t.Stop()
		checkpoint = t.C
	}
	if e.cfg.RuleMining > 0 {
		t := time.NewTicker(e.cfg.RuleMining)
		defer t.Stop()
		mine = t.C
		if _, err := e.MineRules(ctx); err != nil {
			e.logger.Warn("mining rules", "err", err)
		}
	}
	var prune <-chan time.Time
	if e.cfg.Retention > 0 {
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		prune = t.C
		e.Prune(ctx, time.Now())
	}
	for {
		select {
		case wall := <-prune:
			e.Prune(ctx, wall)
		case <-mine:
			if _, err := e.MineRules(ctx); err != nil && ctx.Err() == nil {
				e.logger.Warn("mining rules", "err", err)
			}
		case <-checkpoint:
			// Learned state is saved while running, not only on a clean
			// stop, so that a crash loses at most one interval of it.
			if err := e.saveState(); err != nil {
				e.logger.Warn("checkpointing the learned state", "err", err)
			}
		case wall := <-ticker.C:
			if err := e.Tick(ctx, e.clock.now(wall)); err != nil && ctx.Err() == nil {
				e.logger.Warn("tick failed", "err", err)
			}
		case err := <-served:
			return fmt.Errorf("http server: %w", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			err := errors.Join(srv.Shutdown(sctx), stopIngest(sctx))
			if ferr := e.bus.Flush(sctx); ferr != nil {
				err = errors.Join(err, ferr)
			}
			e.logger.Info("stopped serving")
			return err
		}
	}
}

// Close stops the bus (draining what is queued) and closes the store.
func (e *Engine) Close() error {
	e.stream.Close() // the API's event streams end; a server's shutdown waits for them
	// Runs in progress are stopped (and recorded) before the bus drains; the
	// stages' state is saved once everything queued has gone through them.
	errR, errB := e.remedy.Close(), e.bus.Close()
	return errors.Join(errR, errB, e.saveState(), e.closeOutputs(), e.store.Close())
}
