package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/signal"
)

func TestObservationSeries(t *testing.T) {
	r := newRig(t)
	r.store.obs[2].Start = t0.Add(-time.Minute)
	r.store.obs[2].Expected, r.store.obs[2].Low, r.store.obs[2].High = 5, 4, 6
	var asked []string
	r.s.series = func(entity, name string, from, to time.Time) []Series {
		asked = append(asked, entity+" "+name+" "+from.Format(time.TimeOnly)+" "+to.Format(time.TimeOnly))
		return []Series{{Entity: entity, Name: name, Points: [][2]float64{{float64(t0.Unix()), 9}}}}
	}
	w := r.do("GET", "/api/v1/observations/3/series", "", "")
	var got struct {
		Onset    time.Time `json:"onset"`
		Expected float64   `json:"expected"`
		Low      float64   `json:"low"`
		High     float64   `json:"high"`
		Series   []Series  `json:"series"`
	}
	decode(t, w, &got)
	if w.Code != 200 || !got.Onset.Equal(t0.Add(-time.Minute)) || got.Expected != 5 || got.Low != 4 || got.High != 6 ||
		len(got.Series) != 1 || got.Series[0].Points[0][1] != 9 {
		t.Errorf("GET series: %d %s", w.Code, w.Body)
	}
	// The plot spans half an hour either side: before the onset, after the finding.
	if want := "db cpu 11:29:00 12:30:00"; len(asked) != 1 || asked[0] != want {
		t.Errorf("asked %q, want %q", asked, want)
	}
	f := func(target string, code int, want string) {
		t.Helper()
		w := r.do("GET", target, "", "")
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d %s, want %d containing %q", target, w.Code, w.Body, code, want)
		}
	}
	f("/api/v1/observations/99/series", 404, "observation 99 not found")
	f("/api/v1/observations/x/series", 400, "not a positive whole number")
	f("/api/v1/observations/3/series?from=1", 400, "unknown query parameter")
	r.s.series = nil
	f("/api/v1/observations/3/series", 503, "not enabled")
}

func TestListEvents(t *testing.T) {
	r := newRig(t)
	r.store.events = []signal.Event{{ID: 1, Time: t0, Entity: "cart", Kind: "deploy"}, {ID: 2, Time: t0, Entity: "db", Kind: "config"}}
	var got struct {
		Events []signal.Event `json:"events"`
	}
	w := r.do("GET", "/api/v1/events?entity=db&since=2025-03-01T00:00:00Z", "", "")
	decode(t, w, &got)
	if w.Code != 200 || len(got.Events) != 1 || got.Events[0].ID != 2 {
		t.Errorf("GET events: %d %s", w.Code, w.Body)
	}
	if w := r.do("GET", "/api/v1/events?kind=deploy", "", ""); w.Code != 400 {
		t.Errorf("GET events?kind: %d %s, want 400", w.Code, w.Body)
	}
}

func TestRelativeTime(t *testing.T) {
	f := func(in string, want time.Duration, ok bool) {
		t.Helper()
		if got, gotOK := relative(in); got != want || gotOK != ok {
			t.Errorf("relative(%q) = %v, %v, want %v, %v", in, got, gotOK, want, ok)
		}
	}
	f("1h", time.Hour, true)
	f("90s", 90*time.Second, true)
	f("1h30m", 90*time.Minute, true)
	f("7d", 7*24*time.Hour, true)
	f("d", 0, false)
	f("-1h", 0, false)
	f("1740830400", 0, false)
	f("2025-03-01T12:00:00Z", 0, false)
	f("99999999d", 0, false)
	r := newRig(t)
	before := time.Now().Add(-time.Hour)
	r.do("GET", "/api/v1/observations?since=1h", "", "")
	r.store.mu.Lock()
	q := r.store.obsQ[len(r.store.obsQ)-1]
	r.store.mu.Unlock()
	if q.Since.Before(before.Add(-time.Second)) || q.Since.After(time.Now().Add(-time.Hour)) {
		t.Errorf("since=1h asked since %v, want an hour ago", q.Since)
	}
	if w := r.do("GET", "/api/v1/incidents?since=1x", "", ""); w.Code != 400 || !strings.Contains(w.Body.String(), "15m, 1h, 7d") {
		t.Errorf("since=1x: %d %s", w.Code, w.Body)
	}
}

func TestWhoami(t *testing.T) {
	op, opHash := auth.NewToken()
	rd, rdHash := auth.NewToken()
	on := New(Deps{Auth: auth.New([]auth.Token{{Name: "alice", Role: auth.RoleOperate, SHA256: opHash}, {Name: "bob", Role: auth.RoleRead, SHA256: rdHash}})}, nil)
	off := New(Deps{Clock: func() time.Time { return t0 }}, nil)
	f := func(s *Server, token string, code int, want string) {
		t.Helper()
		req := httptest.NewRequest("GET", "/api/v1/whoami", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("whoami with %q: %d %s, want %d containing %s", token, w.Code, w.Body, code, want)
		}
	}
	f(off, "", 200, `{"name":"anonymous","role":"admin","auth":false,"read":true,"operate":true,"now":"2025-03-01T12:00:00Z"}`)
	f(on, op, 200, `{"name":"alice","role":"operate","auth":true,"read":true,"operate":true`)
	f(on, rd, 200, `{"name":"bob","role":"read","auth":true,"read":true,"operate":false`)
	f(on, "", 200, `{"name":"anonymous","auth":true,"read":false,"operate":false`)
	f(on, "seer_wrong", 401, "bearer token")
}

func TestStatic(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ui " + r.URL.Path)) })
	_, hash := auth.NewToken()
	s := New(Deps{UI: ui, Auth: auth.New([]auth.Token{{Name: "a", Role: auth.RoleRead, SHA256: hash}})}, nil)
	f := func(s *Server, path string, code int, want string) {
		t.Helper()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d %s, want %d containing %q", path, w.Code, w.Body, code, want)
		}
	}
	// The page and its files need no token: they hold no data.
	f(s, "/", 200, "ui /")
	f(s, "/assets/index.js", 200, "ui /assets/index.js")
	f(s, "/nope", 404, "the web UI is at /")
	f(s, "/api/v1/nope", 404, "no such path")
	f(New(Deps{}, nil), "/", 404, "not built into this process")
}

func TestAcknowledge(t *testing.T) {
	var got []Operation
	s := New(Deps{Lifecycle: func(_ context.Context, id int64, op Operation) (signal.Incident, error) {
		got = append(got, op)
		in := signal.Incident{ID: id, Acknowledged: t0, AcknowledgedBy: op.By}
		if op.Assignee != "" {
			in.Labels = map[string]string{LabelAssignee: op.Assignee}
		}
		return in, nil
	}}, nil)
	f := func(route, body string, code int, want string) {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/incidents/7/"+route, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s %q: %d %s, want %d containing %q", route, body, w.Code, w.Body, code, want)
		}
	}
	f("ack", "", 200, `"acknowledged":"2025-03-01T12:00:00Z","acknowledged_by":"anonymous"`)
	if len(got) != 1 || got[0].Assignee != "" {
		t.Errorf("an acknowledgement without assignee assigned: %+v", got)
	}
	f("ack", `{"assignee": " alice "}`, 200, `"assignee":"alice"`)
	f("ack", `{"assignee": "a\nb"}`, 400, "control characters")
	f("ack", `{"assignee": "`+strings.Repeat("a", 129)+`"}`, 400, "at most 128")
	f("ack", `{"who": "x"}`, 400, "unknown field")
	f("resolve", `{"assignee": "alice"}`, 400, "only an acknowledgement")
	if len(got) != 2 || got[1] != (Operation{Action: ActionAck, By: "anonymous", Assignee: "alice"}) {
		t.Errorf("operations %+v", got)
	}
	// The UI's old route is gone: acknowledging is the lifecycle's.
	f("acknowledge", "", 404, "no such path")
}
