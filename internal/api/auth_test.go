package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/signal"
)

// fakeFeedback keeps incident 7, which involves checkout and db.
type fakeFeedback struct{ in signal.Incident }

func (f *fakeFeedback) Incident(context.Context, int64) (signal.Incident, error) { return f.in, nil }
func (f *fakeFeedback) PutIncident(_ context.Context, in *signal.Incident) error {
	f.in = *in
	return nil
}
func (f *fakeFeedback) PutRule(context.Context, *signal.Rule) error { return nil }

// TestAuth runs the attacks of issue 17 on the API with authentication on:
// a decision needs an operator's token and is recorded under its name; a
// browser's cross-site request is refused whatever it carries.
func TestAuth(t *testing.T) {
	tokens := map[auth.Role]string{}
	var list []auth.Token
	for _, role := range []auth.Role{auth.RoleRead, auth.RoleIngest, auth.RoleOperate} {
		tok, hash := auth.NewToken()
		tokens[role] = tok
		list = append(list, auth.Token{Name: "tok-" + string(role), Role: role, SHA256: hash})
	}
	fr := &fakeRemedy{}
	fb := &fakeFeedback{in: signal.Incident{ID: 7, Entities: []string{"checkout"},
		Causes: []signal.Cause{{Entity: "db", Kind: "latency", Score: 0.9}}}}
	s := New(Deps{Remedy: fr, Auth: auth.New(list), Feedback: &Feedback{Store: fb},
		Store: newRig(t).store, Events: func(context.Context, signal.Event) error { return nil }}, nil)
	f := func(method, target string, role auth.Role, ctype, body string, hdr map[string]string, code int, want string) {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[role])
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s %s as %q: %d %s; want %d containing %q", method, target, role, w.Code, w.Body, code, want)
		}
	}
	const approve = "/api/v1/incidents/7/approve"
	f("POST", approve, "", "application/json", "", nil, 401, "bearer token with the operate permission")
	f("POST", approve, auth.RoleRead, "application/json", "", nil, 403, `role read, which does not grant operate`)
	f("POST", approve, auth.RoleIngest, "application/json", "", nil, 403, "does not grant operate")
	req := httptest.NewRequest("POST", approve, nil)
	req.Header.Set("Authorization", "Bearer seer_not-a-token")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("a wrong token: %d %v", w.Code, w.Header())
	}
	// The body names mallory; the audit names the token.
	f("POST", approve, auth.RoleOperate, "application/json", `{"by":"mallory"}`, nil, 200, `"by":"tok-operate"`)
	if fr.calls[0] != "approve tok-operate" {
		t.Errorf("the manager was told %q", fr.calls)
	}
	// Cross-site: a form posted by another site's page, with or without
	// a token the browser might hold, and a fetch that says cross-site.
	form := "application/x-www-form-urlencoded"
	f("POST", approve, "", form, "by=mallory", map[string]string{"Origin": "http://evil.example"}, 403, "cross-site")
	f("POST", approve, auth.RoleOperate, form, "", map[string]string{"Origin": "http://evil.example"}, 403, "cross-site")
	f("POST", approve, auth.RoleOperate, "application/json", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site")
	// A form from nowhere in particular lacks the JSON content type.
	f("POST", approve, auth.RoleOperate, form, "x=1", nil, 415, "not JSON")
	// Reads need a read token; health checks need nothing.
	f("GET", "/api/v1/incidents", "", "", "", nil, 401, "read permission")
	f("GET", "/api/v1/incidents", auth.RoleIngest, "", "", nil, 403, "does not grant read")
	f("GET", "/api/v1/incidents", auth.RoleRead, "", "", nil, 200, `"incidents"`)
	f("GET", "/healthz", "", "", "", nil, 200, "ok")
	// Events are ingest.
	ev := `{"entity":"checkout","kind":"deploy","text":"v2"}`
	f("POST", "/api/v1/events", auth.RoleRead, "application/json", ev, nil, 403, "does not grant ingest")
	f("POST", "/api/v1/events", auth.RoleIngest, "application/json", ev, nil, 202, "")
	// Feedback names only the incident's entities, and its author is the token.
	const feedback = "/api/v1/incidents/7/feedback"
	f("POST", feedback, auth.RoleOperate, "application/json", `{"confirm":"payments"}`, nil, 400, `does not involve \"payments\"`)
	f("POST", feedback, auth.RoleOperate, "application/json", `{"confirm":"db","reject":["checkout","x:1"]}`, nil, 400, `\"x:1\"`)
	f("POST", feedback, auth.RoleOperate, "application/json", `{"confirm":"db","by":"mallory"}`, nil, 200, "")
	if by := fb.in.Labels[infer.LabelBy]; by != "tok-operate" {
		t.Errorf("feedback recorded by %q; want tok-operate", by)
	}
}

func TestAuthOffIsAnonymous(t *testing.T) {
	r := newRig(t)
	fr := &fakeRemedy{}
	r.s.remedy = fr
	req := httptest.NewRequest("POST", "/api/v1/incidents/7/approve", strings.NewReader(`{"by":"alice"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.s.ServeHTTP(w, req)
	if w.Code != http.StatusOK || fr.calls[0] != "approve anonymous" {
		t.Errorf("%d %s %q", w.Code, w.Body, fr.calls)
	}
}
