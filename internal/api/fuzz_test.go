package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// FuzzEvents feeds arbitrary bodies to the events route: it must answer 202
// with valid events or a 4xx with a JSON error, never a 5xx or a panic.
func FuzzEvents(f *testing.F) {
	for _, seed := range []string{
		`{"time":1740830400,"entity":"checkout","kind":"deploy","text":"v2","source":"ci","attrs":{"v":"2"}}`,
		`[{"entity":"a","kind":"alarm","time":"2025-03-01T12:00:00Z"},{"entity":"b","kind":"scale","time":"1.5"}]`,
		`[]`, `{}`, `[1]`, `null`, `"x"`, `{"entity":"a","kind":"deploy"} {}`, `[{"entity":"a"`,
		`{"entity":"a","kind":"deploy","time":1e300}`, `{"entity":"a","kind":"deploy","time":-0.0}`,
		`{"entity":"a","kind":"deploy","time":{"a":1}}`, `{"entity":"a","kind":"deploy","colour":1}`,
		"\xef\xbb\xbf{}", `[[[[[[[[`, `{"attrs":{"a":null}}`,
	} {
		f.Add([]byte(seed))
	}
	r := newRig(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.mu.Lock()
		r.events = r.events[:0]
		r.mu.Unlock()
		r.s.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if w.Code != http.StatusAccepted {
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("status %d without a JSON error for %q: %s", w.Code, body, w.Body)
			}
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.events {
			if strings.TrimSpace(e.Entity) == "" || !e.Kind.Valid() || e.Time.IsZero() || e.Source == "" {
				t.Fatalf("invalid event accepted from %q: %+v", body, e)
			}
		}
	})
}

// FuzzQuery feeds arbitrary query strings to the list routes: never a 5xx.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		"status=open&since=1740830400&limit=5", "since=2025-03-01T12:00:00Z", "limit=-1", "kind=trace.latency,,log.burst",
		"since=10&until=5", "%zz", "limit=1&limit=2", "until=1e9",
	} {
		f.Add(seed)
	}
	r := newRig(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, path := range []string{"/api/v1/incidents", "/api/v1/observations", "/api/v1/incidents/7", "/api/v1/services"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL = &url.URL{Path: path, RawQuery: q}
			w := httptest.NewRecorder()
			r.s.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", path, q, w.Code, w.Body)
			}
		}
	})
}

// FuzzParseTime checks that whatever parses is within RFC 3339's years and
// in UTC.
func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{"1740830400", "1740830400.5", ".5", "1e9", "2025-03-01T12:00:00+01:00", "-1", "253402300799.999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s)
		if err != nil {
			return
		}
		if got.Location() != t0.Location() || got.Year() > 9999 {
			t.Fatalf("parseTime(%q) = %v", s, got)
		}
		if _, err := json.Marshal(signal.Event{Time: got}); err != nil {
			t.Fatalf("parseTime(%q) = %v, which does not encode: %v", s, got, err)
		}
	})
}

// FuzzRelative checks that a relative time is never negative, never a
// number the unix form would read, and never panics on a short string.
func FuzzRelative(f *testing.F) {
	for _, seed := range []string{"1h", "90s", "1h30m", "7d", "d", "h", "1e9", "-1h", "0d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := relative(s)
		if !ok {
			return
		}
		if d < 0 {
			t.Fatalf("relative(%q) = %v, negative", s, d)
		}
		if _, err := parseUnix(s); err == nil {
			t.Fatalf("relative(%q) and parseUnix both read it", s)
		}
	})
}
