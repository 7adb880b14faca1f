package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/signal"
)

// TestEveryMutatingRouteNeedsAToken reads the routes as server.go
// registers them, so that a route added later is checked too: with
// authentication on, every route but GET needs a permission and refuses a
// request without a token (401), and a cross-site one with a token (403).
func TestEveryMutatingRouteNeedsAToken(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`s\.handle\("([A-Z]+) ([^"]+)", auth\.(\w+),`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 20 {
		t.Fatalf("found %d routes in server.go; the pattern no longer matches how routes are registered", len(routes))
	}
	tok, hash := auth.NewToken()
	s := New(Deps{Remedy: &fakeRemedy{}, Auth: auth.New([]auth.Token{{Name: "op", Role: auth.RoleAdmin, SHA256: hash}}),
		Feedback: &Feedback{Store: &fakeFeedback{}}, Store: newRig(t).store,
		Events: func(context.Context, signal.Event) error { return nil }}, nil)
	n := 0
	for _, r := range routes {
		method, path, perm := r[1], r[2], r[3]
		if method == http.MethodGet {
			continue
		}
		n++
		if perm == "None" {
			t.Errorf("%s %s needs no permission", method, path)
			continue
		}
		target := strings.NewReplacer("{id}", "7", "{$}", "").Replace(path)
		req := httptest.NewRequest(method, target, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d; want 401", method, path, w.Code)
		}
		req = httptest.NewRequest(method, target, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		w = httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s %s cross-site with a token: %d; want 403", method, path, w.Code)
		}
	}
	if n < 10 {
		t.Errorf("checked %d mutating routes; server.go has more", n)
	}
}
