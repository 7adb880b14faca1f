package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/signal"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeStore serves fixed data and records the queries it was asked.
type fakeStore struct {
	mu         sync.Mutex
	incidents  []signal.Incident
	obs        []signal.Observation
	executions map[int64][]signal.Execution
	events     []signal.Event
	err        error // returned by every method when set

	incQ []knowledge.IncidentQuery
	obsQ []knowledge.ObservationQuery
	evQ  []knowledge.EventQuery
}

func (f *fakeStore) Incidents(_ context.Context, q knowledge.IncidentQuery) ([]signal.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.incQ = append(f.incQ, q)
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.incidents), nil
}

func (f *fakeStore) Incident(_ context.Context, id int64) (signal.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return signal.Incident{}, f.err
	}
	for _, in := range f.incidents {
		if in.ID == id {
			return in, nil
		}
	}
	return signal.Incident{}, fmt.Errorf("incident %d: %w", id, knowledge.ErrNotFound)
}

func (f *fakeStore) Observations(_ context.Context, q knowledge.ObservationQuery) ([]signal.Observation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obsQ = append(f.obsQ, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []signal.Observation
	for _, o := range f.obs {
		if len(q.IDs) == 0 || slices.Contains(q.IDs, o.ID) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakeStore) Executions(_ context.Context, id int64) ([]signal.Execution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.executions[id], nil
}

func (f *fakeStore) Events(_ context.Context, q knowledge.EventQuery) ([]signal.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evQ = append(f.evQ, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []signal.Event
	for _, e := range f.events {
		if q.Entity == "" || e.Entity == q.Entity {
			out = append(out, e)
		}
	}
	return out, nil
}

var _ Store = (*fakeStore)(nil)

// rig is a server wired to fakes.
type rig struct {
	s      *Server
	store  *fakeStore
	reg    *prometheus.Registry
	log    *bytes.Buffer
	mu     sync.Mutex
	events []signal.Event
	failAt int // Events fails from this event on, when > 0
	ready  error
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	r := &rig{
		store: &fakeStore{
			incidents: []signal.Incident{
				{ID: 7, Status: signal.IncidentOpen, Title: "checkout slow", Onset: t0, Opened: t0, Updated: t0,
					Entities: []string{"checkout"}, ObservationIDs: []int64{1, 3},
					Causes: []signal.Cause{{Entity: "db", Kind: "latency", Score: 0.9, Evidence: []string{"db p99 up"}}}},
				{ID: 8, Status: signal.IncidentResolved, Title: "quiet", Onset: t0, Opened: t0, Updated: t0},
			},
			obs: []signal.Observation{
				{ID: 1, Time: t0, Start: t0, Entity: "checkout", Kind: signal.TraceLatency, Name: "GET /cart", Score: 0.8},
				{ID: 2, Time: t0, Start: t0, Entity: "cart", Kind: signal.LogBurst, Name: "t42", Score: 0.5},
				{ID: 3, Time: t0, Start: t0, Entity: "db", Kind: signal.MetricAnomaly, Name: "cpu", Score: 0.7},
			},
			executions: map[int64][]signal.Execution{
				7: {{ID: 1, IncidentID: 7, Runbook: "restart", Step: "rollout", Target: "db", Mode: "dry-run", Status: "planned", Started: t0}},
			},
		},
		reg: prometheus.NewRegistry(),
		log: &bytes.Buffer{},
	}
	r.s = New(Deps{
		Store: r.store,
		Topology: func() signal.Topology {
			return signal.Topology{Services: []string{"checkout", "db"},
				Edges: []signal.Edge{{Caller: "checkout", Callee: "db", Calls: 10, Errors: 1, ErrorRatio: 0.1, LatencyP99: 5 * time.Millisecond}}}
		},
		Events: func(_ context.Context, e signal.Event) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.failAt > 0 && len(r.events)+1 >= r.failAt {
				return errors.New("bus: queue full")
			}
			r.events = append(r.events, e)
			return nil
		},
		Ready:      func() error { return r.ready },
		Metrics:    promhttp.HandlerFor(prometheus.Gatherers{}, promhttp.HandlerOpts{}),
		Now:        func() time.Time { return t0 },
		Registerer: r.reg,
	}, slog.New(slog.NewTextHandler(r.log, nil)))
	return r
}

// do serves one request; a non-empty ctype sets the Content-Type.
func (r *rig) do(method, target, body, ctype string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	r.s.ServeHTTP(w, req)
	return w
}

// counter is the value of a counter series, 0 when absent.
func (r *rig) counter(tb testing.TB, name string, labels map[string]string) float64 {
	tb.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func decode(tb testing.TB, w *httptest.ResponseRecorder, v any) {
	tb.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type %q, want application/json; body %s", ct, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		tb.Fatalf("decoding %s: %v", w.Body, err)
	}
}

func TestProbes(t *testing.T) {
	r := newRig(t)
	f := func(path string, ready error, wantCode int, wantBody string) {
		t.Helper()
		r.ready = ready
		w := r.do("GET", path, "", "")
		if w.Code != wantCode || w.Body.String() != wantBody {
			t.Errorf("GET %s: %d %q, want %d %q", path, w.Code, w.Body, wantCode, wantBody)
		}
	}
	f("/healthz", nil, 200, "ok\n")
	f("/healthz", errors.New("warming up"), 200, "ok\n")
	f("/readyz", nil, 200, "ok\n")
	f("/readyz", errors.New("store not open"), 503, "not ready: store not open\n")
	if got := r.counter(t, "seer_api_requests_total", map[string]string{"route": "/readyz", "code": "503"}); got != 1 {
		t.Errorf("readyz 503 counted %v times, want 1", got)
	}
}

func TestMetrics(t *testing.T) {
	r := newRig(t)
	s := New(Deps{Metrics: promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}), Registerer: r.reg}, nil)
	r.do("GET", "/api/v1/incidents?limit=x", "", "")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{
		`seer_api_rejected_total{reason="bad_limit",route="/api/v1/incidents"} 1`,
		`seer_api_requests_total{code="400",route="/api/v1/incidents"} 1`,
		`seer_api_request_duration_seconds_bucket{route="/api/v1/incidents",le="+Inf"} 1`,
	} {
		if w.Code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /metrics: %d, missing %s in\n%s", w.Code, want, body)
		}
	}
}

func TestListIncidents(t *testing.T) {
	r := newRig(t)
	w := r.do("GET", "/api/v1/incidents?status=open&since=1740830400&limit=5", "", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got struct {
		Incidents []signal.Incident `json:"incidents"`
	}
	decode(t, w, &got)
	if len(got.Incidents) != 2 || got.Incidents[0].ID != 7 || got.Incidents[0].Causes[0].Entity != "db" {
		t.Errorf("incidents %+v", got.Incidents)
	}
	if got.Incidents[1].Entities == nil || got.Incidents[1].Causes == nil {
		t.Errorf("empty lists should be [] not null: %s", w.Body)
	}
	want := knowledge.IncidentQuery{Status: signal.IncidentOpen, Since: time.Unix(1740830400, 0).UTC(), Limit: 5}
	if q := r.store.incQ[0]; !reflect.DeepEqual(q, want) {
		t.Errorf("query %+v, want %+v", q, want)
	}
	if !strings.Contains(w.Body.String(), `"onset":"2025-03-01T12:00:00Z"`) {
		t.Errorf("times should be RFC 3339: %s", w.Body)
	}
}

func TestGetIncident(t *testing.T) {
	r := newRig(t)
	var got struct {
		Incident     signal.Incident      `json:"incident"`
		Observations []signal.Observation `json:"observations"`
		Executions   []signal.Execution   `json:"executions"`
	}
	w := r.do("GET", "/api/v1/incidents/7", "", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	decode(t, w, &got)
	if got.Incident.ID != 7 || len(got.Observations) != 2 || got.Observations[1].ID != 3 ||
		len(got.Executions) != 1 || got.Executions[0].Runbook != "restart" {
		t.Errorf("got %+v", got)
	}
	want := knowledge.ObservationQuery{IDs: []int64{1, 3}, Limit: 2}
	if q := r.store.obsQ[0]; !reflect.DeepEqual(q, want) {
		t.Errorf("observation query %+v, want %+v", q, want)
	}

	// An incident without observations must not query them all.
	w = r.do("GET", "/api/v1/incidents/8", "", "")
	if w.Code != 200 || len(r.store.obsQ) != 1 {
		t.Fatalf("status %d, %d observation queries: %s", w.Code, len(r.store.obsQ), w.Body)
	}
	if !strings.Contains(w.Body.String(), `"observations":[],"executions":[]`) {
		t.Errorf("empty lists should be []: %s", w.Body)
	}
}

func TestListObservations(t *testing.T) {
	r := newRig(t)
	w := r.do("GET", "/api/v1/observations?entity=db&since=2025-03-01T11:00:00Z&until=1740830400.5&kind=trace.latency,log.burst&kind=metric.anomaly&limit=0", "", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got struct {
		Observations []signal.Observation `json:"observations"`
	}
	decode(t, w, &got)
	if len(got.Observations) != 3 {
		t.Errorf("observations %+v", got.Observations)
	}
	want := knowledge.ObservationQuery{
		Entity: "db",
		Kinds:  []signal.ObsKind{signal.TraceLatency, signal.LogBurst, signal.MetricAnomaly},
		Since:  t0.Add(-time.Hour),
		Until:  time.Unix(1740830400, 5e8).UTC(),
	}
	if q := r.store.obsQ[0]; !reflect.DeepEqual(q, want) {
		t.Errorf("query %+v, want %+v", q, want)
	}
}

func TestServices(t *testing.T) {
	r := newRig(t)
	w := r.do("GET", "/api/v1/services", "", "")
	var got signal.Topology
	decode(t, w, &got)
	if w.Code != 200 || len(got.Services) != 2 || len(got.Edges) != 1 || got.Edges[0].LatencyP99 != 5*time.Millisecond {
		t.Errorf("%d %+v", w.Code, got)
	}

	// Without a topology source the graph is empty, not null.
	w = httptest.NewRecorder()
	New(Deps{}, nil).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/services", nil))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"services":[],"edges":[]}` {
		t.Errorf("empty topology: %d %s", w.Code, w.Body)
	}
}

func TestPostEvents(t *testing.T) {
	f := func(body string, want []signal.Event) {
		t.Helper()
		r := newRig(t)
		w := r.do("POST", "/api/v1/events", body, "application/json; charset=utf-8")
		if w.Code != http.StatusAccepted {
			t.Fatalf("%s: status %d: %s", body, w.Code, w.Body)
		}
		var got struct {
			Accepted int            `json:"accepted"`
			Events   []signal.Event `json:"events"`
		}
		decode(t, w, &got)
		if got.Accepted != len(want) || !reflect.DeepEqual(got.Events, want) || len(r.events) != len(want) ||
			len(want) > 0 && !reflect.DeepEqual(r.events, want) {
			t.Errorf("%s:\nreplied %+v\nhanded  %+v\nwant    %+v", body, got, r.events, want)
		}
	}
	f(`{"time":1740830400,"entity":"checkout","kind":"deploy","text":"v2","source":"ci","attrs":{"version":"2"}}`,
		[]signal.Event{{Time: t0, Entity: "checkout", Kind: signal.EventDeploy, Text: "v2", Source: "ci", Attrs: map[string]string{"version": "2"}}})
	f(` [ {"time":"2025-03-01T13:00:00+01:00","entity":"db","kind":"config"},
	      {"entity":"cart","kind":"alarm","time":null},
	      {"entity":"cart","kind":"scale","time":"1740830400.25"} ] `,
		[]signal.Event{
			{Time: t0, Entity: "db", Kind: signal.EventConfig, Source: "api"},
			{Time: t0, Entity: "cart", Kind: signal.EventAlarm, Source: "api"},
			{Time: t0.Add(250 * time.Millisecond), Entity: "cart", Kind: signal.EventScale, Source: "api"},
		})
	f(`[]`, []signal.Event{})
}

func TestRejected(t *testing.T) {
	const ev = `{"entity":"checkout","kind":"deploy"}`
	big := `[` + strings.Repeat(ev+",", MaxBody/len(ev)) + ev + `]`
	f := func(method, target, body, ctype string, wantCode int, route, reason, wantMsg string) {
		t.Helper()
		r := newRig(t)
		w := r.do(method, target, body, ctype)
		var got struct {
			Error string `json:"error"`
		}
		decode(t, w, &got)
		if w.Code != wantCode || !strings.Contains(got.Error, wantMsg) {
			t.Errorf("%s %s: %d %q, want %d and a message with %q", method, target, w.Code, got.Error, wantCode, wantMsg)
		}
		if n := r.counter(t, "seer_api_rejected_total", map[string]string{"route": route, "reason": reason}); n != 1 {
			t.Errorf("%s %s: rejected{route=%q,reason=%q} = %v, want 1", method, target, route, reason, n)
		}
		if n := r.counter(t, "seer_api_requests_total", map[string]string{"route": route, "code": fmt.Sprint(wantCode)}); n != 1 {
			t.Errorf("%s %s: requests{route=%q,code=%d} = %v, want 1", method, target, route, wantCode, n)
		}
		if len(r.events) != 0 {
			t.Errorf("%s %s: rejected request handed on events %v", method, target, r.events)
		}
	}
	const E, J = "/api/v1/events", "application/json"

	// Event bodies.
	f("POST", E, `{"entity":"a","kind":"deploy"`, J, 400, E, "bad_json", "body ends at byte 29")
	f("POST", E, `{"entity":"a",,"kind":"deploy"}`, J, 400, E, "bad_json", "malformed JSON at byte 15: invalid character ','")
	f("POST", E, `[{"entity":"a","kind":"deploy"} {"entity":"b"}]`, J, 400, E, "bad_json", "event 1: malformed JSON at byte")
	f("POST", E, `{"entity":"a","kind":"deploy"} {}`, J, 400, E, "bad_json", "unexpected data after the JSON value")
	f("POST", E, `"deploy"`, J, 400, E, "bad_json", "must be a JSON object or an array of objects")
	f("POST", E, `[1]`, J, 400, E, "bad_json", "event 0: expected an event object near byte 1, got a JSON number")
	f("POST", E, `{"entity":5,"kind":"deploy"}`, J, 400, E, "bad_json", `field "entity" near byte 11 must be a string, not a JSON number`)
	f("POST", E, `{"entity":"a","kind":"deploy","attrs":{"n":1}}`, J, 400, E, "bad_json", `field "attrs" near byte 44 must be an object of string values, not a JSON number`)
	f("POST", E, "  \n", J, 400, E, "empty", "the body is empty")
	f("POST", E, `{"entity":"a","kind":"deploy","colour":"red"}`, J, 400, E, "unknown_field", `unknown field "colour"`)
	f("POST", E, `{"kind":"deploy"}`, J, 400, E, "missing_entity", "entity is missing")
	f("POST", E, `[{"entity":"a","kind":"deploy"},{"entity":" ","kind":"deploy"}]`, J, 400, E, "missing_entity", "event 1: entity is missing")
	f("POST", E, `[{"entity":"a","kind":"deploy"},{"entity":"127.0.0.1:9999?$(touch${IFS}pwned)","kind":"alarm"}]`, J, 400, E, "bad_entity", "letters, digits")
	f("POST", E, `{"entity":"a","kind":"reboot"}`, J, 400, E, "bad_kind",
		`kind "reboot" is unknown; give one of deploy, config, upgrade, scale, restart, rollback, alarm`)
	f("POST", E, `{"entity":"a"}`, J, 400, E, "bad_kind", "kind is missing; give one of deploy,")
	f("POST", E, `{"entity":"a","kind":"deploy","time":"yesterday"}`, J, 400, E, "bad_time", `"yesterday" is neither RFC 3339`)
	f("POST", E, `{"entity":"a","kind":"deploy","time":1740830400000}`, J, 400, E, "bad_time", "if it is in milliseconds, divide by 1000")
	f("POST", E, `{"entity":"a","kind":"deploy","time":true}`, J, 400, E, "bad_time", "must be an RFC 3339 string or unix seconds")
	f("POST", E, strings.Repeat(`{"kind":"x"},`, 12)+`{"kind":"x"}`, J, 400, E, "bad_json", "unexpected data after")
	f("POST", E, "["+strings.Repeat(`{"kind":"x"},`, 12)+`{"kind":"x"}]`, J, 400, E, "missing_entity", "and 16 more problems")
	f("POST", E, big, J, 413, E, "too_large", "over 1048576 bytes")
	f("POST", E, ev, "text/plain", 415, E, "content_type", "send the header Content-Type: application/json")
	f("POST", E, ev, "", 415, E, "content_type", `content type ""`)
	f("POST", E+"?dry=1", ev, J, 400, E, "unknown_param", `unknown query parameter "dry"; this path takes none`)

	// Query parameters and ids.
	const I = "/api/v1/incidents"
	f("GET", I+"?since=yesterday", "", "", 400, I, "bad_time", `since: "yesterday" is neither RFC 3339 (2006-01-02T15:04:05Z) nor unix seconds`)
	f("GET", I+"?since=2025-03-01", "", "", 400, I, "bad_time", "neither RFC 3339")
	f("GET", I+"?limit=ten", "", "", 400, I, "bad_limit", `limit "ten" is not a number`)
	f("GET", I+"?limit=-1", "", "", 400, I, "bad_limit", "limit -1 is negative")
	f("GET", I+"?limit=99999999999999999999", "", "", 400, I, "bad_limit", "above the maximum 10000")
	f("GET", I+"?limit=1&limit=2", "", "", 400, I, "repeated_param", `"limit" is given 2 times`)
	f("GET", I+"?status=closed", "", "", 400, I, "bad_status", "valid ones are open, mitigating, resolved")
	f("GET", I+"?stauts=open", "", "", 400, I, "unknown_param", `unknown query parameter "stauts"; valid ones are status, since, limit`)
	f("GET", I+"?limit=%zz", "", "", 400, I, "bad_query", "the query string is malformed")
	f("GET", I+"?limit=x&since=y", "", "", 400, I, "bad_time", `since: "y" is neither RFC 3339 (2006-01-02T15:04:05Z) nor unix seconds (1700000000); or a time ago like 15m, 1h, 7d; limit "x" is not a number`)
	const O = "/api/v1/observations"
	f("GET", O+"?kind=trace.slow", "", "", 400, O, "bad_kind", `kind "trace.slow" is not an observation kind; valid ones are metric.anomaly,`)
	f("GET", O+"?since=10&until=5", "", "", 400, O, "bad_time", "until (1970-01-01T00:00:05Z) must be after since (1970-01-01T00:00:10Z)")
	f("GET", O+"?until=-5", "", "", 400, O, "bad_time", "until: unix time -5 is outside")
	const D = "/api/v1/incidents/{id}"
	f("GET", I+"/abc", "", "", 400, D, "bad_id", `incident id "abc" is not a positive whole number`)
	f("GET", I+"/-3", "", "", 400, D, "bad_id", `incident id "-3"`)
	f("GET", I+"/0", "", "", 400, D, "bad_id", `incident id "0"`)
	f("GET", I+"/99", "", "", 404, D, "not_found", "incident 99 not found; list incidents with GET /api/v1/incidents")

	// Routing.
	f("GET", "/api/v2/incidents", "", "", 404, "unmatched", "no_route", `no such path "/api/v2/incidents"`)
	f("DELETE", I+"/7", "", "", 405, D, "method", "method DELETE is not allowed on /api/v1/incidents/7; use GET, HEAD")
	f("DELETE", E, "", "", 405, E, "method", "use GET, HEAD, POST")
}

func TestAllowHeader(t *testing.T) {
	r := newRig(t)
	f := func(method, target, want string) {
		t.Helper()
		if w := r.do(method, target, "", ""); w.Code != 405 || w.Header().Get("Allow") != want {
			t.Errorf("%s %s: %d Allow %q, want 405 %q", method, target, w.Code, w.Header().Get("Allow"), want)
		}
	}
	f("POST", "/api/v1/incidents", "GET, HEAD")
	f("PUT", "/api/v1/events", "GET, HEAD, POST")
	f("POST", "/healthz", "GET, HEAD")
}

func TestStoreErrors(t *testing.T) {
	f := func(target string) {
		t.Helper()
		r := newRig(t)
		r.store.err = errors.New("disk I/O error on /var/lib/seer/seer.db")
		w := r.do("GET", target, "", "")
		var got struct {
			Error string `json:"error"`
		}
		decode(t, w, &got)
		if w.Code != 500 || strings.Contains(got.Error, "disk") || !strings.Contains(got.Error, "internal error") {
			t.Errorf("GET %s: %d %q, want 500 and a generic message", target, w.Code, got.Error)
		}
		if !strings.Contains(r.log.String(), "disk I/O error") || !strings.Contains(r.log.String(), "component=api") {
			t.Errorf("GET %s: the detail is not logged: %s", target, r.log)
		}
	}
	f("/api/v1/incidents")
	f("/api/v1/incidents/7")
	f("/api/v1/observations")
}

func TestEventsUnavailable(t *testing.T) {
	r := newRig(t)
	r.failAt = 2
	w := r.do("POST", "/api/v1/events", `[{"entity":"a","kind":"deploy"},{"entity":"b","kind":"deploy"},{"entity":"c","kind":"deploy"}]`, "application/json")
	var got struct {
		Error string `json:"error"`
	}
	decode(t, w, &got)
	if w.Code != 503 || !strings.Contains(got.Error, "accepted 1 of 3") || len(r.events) != 1 {
		t.Errorf("%d %q, %d events handed on", w.Code, got.Error, len(r.events))
	}
	if !strings.Contains(r.log.String(), "queue full") {
		t.Errorf("the cause is not logged: %s", r.log)
	}
}

// TestEventsAboveTheMemoryLimit: an engine above its memory's soft limit
// refuses events with 429 and Retry-After, naming what it took.
func TestEventsAboveTheMemoryLimit(t *testing.T) {
	s := New(Deps{Store: newRig(t).store, Events: func(context.Context, signal.Event) error {
		return fmt.Errorf("%w: 900 MiB queued", memlimit.ErrFull)
	}}, nil)
	req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(`{"entity":"a","kind":"deploy"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "accepted 0 of 1") {
		t.Errorf("%d %s (Retry-After %q); want 429 with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
}

func TestUnconfigured(t *testing.T) {
	s := New(Deps{}, nil)
	f := func(method, target, body string, wantCode int) {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != wantCode {
			t.Errorf("%s %s: %d, want %d: %s", method, target, w.Code, wantCode, w.Body)
		}
	}
	f("GET", "/api/v1/incidents", "", 503)
	f("GET", "/api/v1/incidents/1", "", 503)
	f("POST", "/api/v1/events", `{"entity":"a","kind":"deploy"}`, 503)
	f("GET", "/readyz", "", 200)
	f("GET", "/metrics", "", 404)
}

func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := New(Deps{Registerer: reg}, nil)
	b := New(Deps{Registerer: reg}, nil)
	for _, s := range []*Server{a, b} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	}
	r := &rig{reg: reg}
	if n := r.counter(t, "seer_api_requests_total", map[string]string{"route": "/healthz", "code": "200"}); n != 2 {
		t.Errorf("two servers on one registry counted %v requests, want 2", n)
	}
}

func TestParseTime(t *testing.T) {
	f := func(in string, want time.Time, wantErr string) {
		t.Helper()
		got, err := parseTime(in)
		switch {
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("parseTime(%q) error %v, want %q", in, err, wantErr)
		case wantErr == "" && (err != nil || !got.Equal(want)):
			t.Errorf("parseTime(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	f("1740830400", t0, "")
	f("1740830400.000000001", t0.Add(1), "")
	f("1740830400.1234567899", t0.Add(123456789), "")
	f(".5", time.Unix(0, 5e8), "")
	f("1.7408304e9", t0, "")
	f("2025-03-01T12:00:00Z", t0, "")
	f("2025-03-01T13:00:00.5+01:00", t0.Add(5e8), "")
	f("", time.Time{}, "neither")
	f(".", time.Time{}, "neither")
	f("-", time.Time{}, "neither")
	f("1e", time.Time{}, "neither")
	f("12a", time.Time{}, "neither")
	f("-1", time.Time{}, "outside")
	f("-.5", time.Time{}, "outside")
	f("1e300", time.Time{}, "outside")
	f("253402300800", time.Time{}, "milliseconds")
	f("99999999999999999999999", time.Time{}, "outside")
}

// TestConcurrent serves every route from several goroutines, for -race.
func TestConcurrent(t *testing.T) {
	r := newRig(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				r.do("GET", "/api/v1/incidents?limit=5", "", "")
				r.do("GET", "/api/v1/incidents/7", "", "")
				r.do("GET", "/api/v1/observations?entity=db", "", "")
				r.do("GET", "/api/v1/services", "", "")
				r.do("DELETE", "/api/v1/services", "", "")
				r.do("POST", "/api/v1/events", fmt.Sprintf(`{"entity":"s%d","kind":"restart","time":%d}`, g, i), "application/json")
			}
		})
	}
	wg.Wait()
	if len(r.events) != 160 {
		t.Errorf("%d events handed on, want 160", len(r.events))
	}
	if n := r.counter(t, "seer_api_requests_total", map[string]string{"route": "/api/v1/events", "code": "202"}); n != 160 {
		t.Errorf("events 202 counted %v, want 160", n)
	}
	if n := r.counter(t, "seer_api_rejected_total", map[string]string{"route": "/api/v1/services", "reason": "method"}); n != 160 {
		t.Errorf("services 405 counted %v, want 160", n)
	}
}
