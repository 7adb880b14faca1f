package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/silence"
)

// Store is what the API reads from the knowledge repository.
type Store interface {
	Incidents(ctx context.Context, q knowledge.IncidentQuery) ([]signal.Incident, error)
	Incident(ctx context.Context, id int64) (signal.Incident, error)
	Observations(ctx context.Context, q knowledge.ObservationQuery) ([]signal.Observation, error)
	Executions(ctx context.Context, incidentID int64) ([]signal.Execution, error)
	Events(ctx context.Context, q knowledge.EventQuery) ([]signal.Event, error)
}

// Lifecycle takes an operator's action on an incident: ack, resolve or
// reopen. It returns knowledge.ErrNotFound for an unknown incident and an
// error wrapping ErrTransition for an action that does not apply.
type Lifecycle func(ctx context.Context, id int64, op Operation) (signal.Incident, error)

// Operation is an operator's lifecycle action on an incident: which, by
// whom (the token's name), and for an acknowledgement who works on it.
type Operation struct {
	Action   string
	By       string
	Assignee string
}

// ErrTransition marks a lifecycle action that does not apply to the
// incident's state; the Lifecycle wraps it.
var ErrTransition = errors.New("the action does not apply")

// Deps are what the server is wired to. A nil field disables what it feeds:
// the routes answer 503 (Store, Events), or an empty graph (Topology), or
// always ready (Ready), or no /metrics route (Metrics), or the wall clock (Now).
type Deps struct {
	Store Store
	// Topology returns the discovered service graph.
	Topology func() signal.Topology
	// Events hands one change event to the pipeline.
	Events func(ctx context.Context, e signal.Event) error
	// Ready returns nil when the engine is ready to serve, or why not.
	Ready func() error
	// Metrics is the Prometheus handler served at /metrics.
	Metrics http.Handler
	// Now stamps events that come without a time.
	Now func() time.Time
	// Registerer receives the API's own metrics; nil means they are kept but
	// not registered.
	Registerer prometheus.Registerer
	// Remedy takes operators' approvals and rejections of runbook runs.
	Remedy Remedy
	// Feedback takes operators' verdicts on diagnoses and serves the
	// assistant's explanation of an incident.
	Feedback *Feedback
	// Investigate ranks the causes of trouble around a time (POST
	// /api/v1/investigations).
	Investigate Investigator
	// Lifecycle, when set, serves ack, resolve and reopen.
	Lifecycle Lifecycle
	// Silences, when set, serves the silences (GET, POST
	// /api/v1/silences, DELETE /api/v1/silences/{id}).
	Silences *silence.Set
	// Auth checks the bearer tokens of the routes that need a permission;
	// nil is authentication off.
	Auth *auth.Authenticator
	// Series reads a metric series' recent points for the evidence plots
	// (GET /api/v1/observations/{id}/series).
	Series SeriesPoints
	// UI serves the web UI's files at / and /assets/; nil leaves / a 404.
	UI http.Handler
	// Clock is the engine's time, which runs on the data's when the data
	// lags the wall (a replay, the simulator); clients measure ages by it.
	// Nil is the wall clock.
	Clock func() time.Time
	// Logs reads the log stage's counts and examples of a template for the
	// log evidence (GET /api/v1/observations/{id}/logs); nil: only what the
	// finding stored.
	Logs LogHistory
	// Traces reads a kept example trace for the trace evidence (GET
	// /api/v1/observations/{id}/trace); nil: none are kept.
	Traces TraceExemplar
	// Audit reads the runbook audit log across incidents (GET
	// /api/v1/audit); nil leaves that route a 503.
	Audit func(ctx context.Context, q knowledge.ExecutionQuery) ([]signal.Execution, error)
	// Incidents streams incident changes to GET /api/v1/stream; nil leaves
	// that route a 503 (clients poll instead).
	Incidents *Stream
}

// Server is seer's HTTP handler.
type Server struct {
	mux      *http.ServeMux
	store    Store
	topology func() signal.Topology
	events   func(ctx context.Context, e signal.Event) error
	ready    func() error
	now      func() time.Time
	remedy   Remedy
	auth     *auth.Authenticator
	cross    *http.CrossOriginProtection
	log      *slog.Logger

	investigator Investigator
	series       SeriesPoints
	ui           http.Handler
	clock        func() time.Time
	lifecycle    Lifecycle
	silences     *silence.Set
	incidents    *Stream
	audit        func(ctx context.Context, q knowledge.ExecutionQuery) ([]signal.Execution, error)
	logs         LogHistory
	traces       TraceExemplar
	m            *metrics
}

// New builds the server and its routes.
func New(d Deps, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		mux:      http.NewServeMux(),
		store:    d.Store,
		topology: d.Topology,
		events:   d.Events,
		ready:    d.Ready,
		now:      d.Now,
		remedy:   d.Remedy,
		auth:     d.Auth,
		cross:    http.NewCrossOriginProtection(),
		log:      logger.With("component", "api"),

		investigator: d.Investigate,
		series:       d.Series,
		ui:           d.UI,
		clock:        d.Clock,
		lifecycle:    d.Lifecycle,
		silences:     d.Silences,
		incidents:    d.Incidents,
		audit:        d.Audit,
		logs:         d.Logs,
		traces:       d.Traces,
	}
	if s.store == nil {
		s.store = noStore{}
	}
	if s.topology == nil {
		s.topology = func() signal.Topology { return signal.Topology{} }
	}
	if s.events == nil {
		s.events = func(context.Context, signal.Event) error { return errUnconfigured }
	}
	if s.ready == nil {
		s.ready = func() error { return nil }
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.m = newMetrics(d.Registerer, s.log)

	s.handle("GET /healthz", auth.None, s.healthz)
	s.handle("GET /readyz", auth.None, s.readyz)
	if d.Metrics != nil {
		s.mux.Handle("GET /metrics", s.instrument("/metrics", d.Metrics))
	}
	s.handle("GET /api/v1/incidents", auth.Read, s.listIncidents)
	s.handle("GET /api/v1/incidents/{id}", auth.Read, s.getIncident)
	s.handle("GET /api/v1/stream", auth.Read, s.stream)
	s.handle("GET /api/v1/observations", auth.Read, s.listObservations)
	s.handle("GET /api/v1/services", auth.Read, s.services)
	s.handle("POST /api/v1/events", auth.Ingest, s.postEvents)
	s.handle("GET /api/v1/events", auth.Read, s.listEvents)
	s.handle("POST /api/v1/incidents/{id}/ack", auth.Operate, s.act(ActionAck))
	s.handle("POST /api/v1/incidents/{id}/resolve", auth.Operate, s.act(ActionResolve))
	s.handle("POST /api/v1/incidents/{id}/reopen", auth.Operate, s.act(ActionReopen))
	s.handle("POST /api/v1/incidents/{id}/approve", auth.Operate, s.approve)
	s.handle("POST /api/v1/incidents/{id}/reject", auth.Operate, s.reject)
	s.handle("GET /api/v1/silences", auth.Read, s.listSilences)
	s.handle("POST /api/v1/silences", auth.Operate, s.addSilence)
	s.handle("DELETE /api/v1/silences/{id}", auth.Operate, s.expireSilence)
	s.handle("GET /api/v1/executions", auth.Read, s.listExecutions)
	s.handle("GET /api/v1/audit", auth.Read, s.auditLog)
	s.handle("POST /api/v1/investigations", auth.Read, s.investigate)
	s.handle("POST /api/v1/incidents/{id}/feedback", auth.Operate, d.Feedback.Post)
	s.handle("GET /api/v1/incidents/{id}/explain", auth.Read, d.Feedback.Explain)
	s.handle("GET /api/v1/observations/{id}/series", auth.Read, s.observationSeries)
	s.handle("GET /api/v1/observations/{id}/logs", auth.Read, s.observationLogs)
	s.handle("GET /api/v1/observations/{id}/trace", auth.Read, s.observationTrace)
	s.handle("GET /api/v1/whoami", auth.None, s.whoami)
	// The UI's page and files are public: they hold no data, and the page
	// asks the API (with the user's token) for everything it shows.
	s.handle("GET /{$}", auth.None, s.static)
	s.handle("GET /assets/", auth.None, s.static)
	return s
}

// ServeHTTP routes the request; requests that match no route, or match one
// with another method, get a JSON 404 or 405 instead of the mux's plain text.
// A browser's cross-site request that is not a GET or HEAD is refused
// first (403): a web page must not drive seer's hands.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.cross.Check(r); err != nil {
		s.fail(w, r, "cross-site", &apiError{status: http.StatusForbidden, reason: "cross_site",
			msg: "cross-site request refused (" + err.Error() + "): call the API from a client or a page of its own origin"})
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// endpoint is a handler that writes its own success and returns its failure,
// so that every failure is answered, logged and counted in one place.
type endpoint func(w http.ResponseWriter, r *http.Request) error

// handle registers h under pattern, open to callers whose token grants p;
// the metrics' route label is the pattern's path, which keeps the label set
// bounded whatever clients send.
func (s *Server) handle(pattern string, p auth.Permission, h endpoint) {
	route := pattern[strings.IndexByte(pattern, ' ')+1:]
	s.mux.Handle(pattern, s.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p != auth.None && s.auth != nil {
			id, err := s.auth.Check(r.Header.Get("Authorization"), p)
			if err != nil {
				s.fail(w, r, route, refusal(err, p))
				return
			}
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, route, err)
		}
	})))
}

// instrument counts h's requests by status code and times them. Latency is
// wall-clock time on purpose: it measures the server, not the simulated world.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		s.m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		s.m.requests.WithLabelValues(route, strconv.Itoa(sw.code())).Inc()
	})
}

// fail answers err: a client's mistake with its own status and message, any
// other error with a generic 500 whose detail goes only to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, route string, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, errUnconfigured):
		ae = &apiError{status: http.StatusServiceUnavailable, reason: "unconfigured",
			msg: "this part of seer is not enabled in this process"}
	default:
		s.log.Error("request failed", "method", r.Method, "route", route, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; the details are in seer's log")
		return
	}
	s.m.rejected.WithLabelValues(route, ae.reason).Inc()
	for k, v := range ae.header {
		w.Header().Set(k, v)
	}
	writeError(w, ae.status, ae.msg)
}

// unmatched answers a request no route took. The mux decides between 404 and
// 405 (and redirects to a cleaned path); its plain-text answer is replaced by
// JSON, and a 405 is counted under the route whose method was wrong.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	c := &captureWriter{header: w.Header()}
	h.ServeHTTP(c, r)
	route := "unmatched"
	var err *apiError
	switch c.status {
	case http.StatusNotFound:
		err = &apiError{status: http.StatusNotFound, reason: "no_route",
			msg: "no such path " + strconv.Quote(clip(r.URL.Path)) + "; the API is under /api/v1 (incidents, incidents/{id}, incidents/{id}/approve, incidents/{id}/reject, incidents/{id}/ack, incidents/{id}/resolve, incidents/{id}/reopen, incidents/{id}/feedback, incidents/{id}/explain, stream, investigations, executions, observations, observations/{id}/series, observations/{id}/logs, observations/{id}/trace, services, events, whoami); the web UI is at /"}
	case http.StatusMethodNotAllowed:
		allow := c.header.Get("Allow")
		route = s.routeOf(r, allow)
		err = &apiError{status: http.StatusMethodNotAllowed, reason: "method",
			msg:    "method " + r.Method + " is not allowed on " + clip(r.URL.Path) + "; use " + allow,
			header: map[string]string{"Allow": allow}}
	default: // a redirect to the cleaned path: pass it on as the mux wrote it
		w.WriteHeader(c.code())
		_, _ = w.Write(c.body)
		s.m.requests.WithLabelValues(route, strconv.Itoa(c.code())).Inc()
		return
	}
	s.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, route, err)
	})).ServeHTTP(w, r)
}

// routeOf finds the route a request would have taken with an allowed method.
func (s *Server) routeOf(r *http.Request, allow string) string {
	m, _, _ := strings.Cut(allow, ",")
	r2 := r.Clone(r.Context())
	r2.Method = strings.TrimSpace(m)
	if _, p := s.mux.Handler(r2); p != "" {
		return p[strings.IndexByte(p, ' ')+1:]
	}
	return "unmatched"
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// captureWriter holds the mux's own answer so that it can be rewritten.
type captureWriter struct {
	header http.Header
	status int
	body   []byte
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	c.body = append(c.body, b...)
	return len(b), nil
}

func (c *captureWriter) code() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}

// errUnconfigured is what the stand-ins for missing dependencies return.
var errUnconfigured = errors.New("not configured")

// noStore stands in for a missing store.
type noStore struct{}

func (noStore) Incidents(context.Context, knowledge.IncidentQuery) ([]signal.Incident, error) {
	return nil, errUnconfigured
}

func (noStore) Events(context.Context, knowledge.EventQuery) ([]signal.Event, error) {
	return nil, errUnconfigured
}

func (noStore) Incident(context.Context, int64) (signal.Incident, error) {
	return signal.Incident{}, errUnconfigured
}

func (noStore) Observations(context.Context, knowledge.ObservationQuery) ([]signal.Observation, error) {
	return nil, errUnconfigured
}

func (noStore) Executions(context.Context, int64) ([]signal.Execution, error) {
	return nil, errUnconfigured
}
