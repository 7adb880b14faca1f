package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestIncidentCommands(t *testing.T) {
	var got []string
	in := signal.Incident{ID: 7, Status: signal.IncidentOpen, Title: "payment errors", Opened: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC),
		Causes: []signal.Cause{{Entity: "payment", Kind: "errors", Score: 0.9, Evidence: []string{"HighErrorRate firing"}}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.String())
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/incidents":
			json.NewEncoder(w).Encode(map[string]any{"incidents": []signal.Incident{in}})
		case r.URL.Path == "/api/v1/incidents/7" && r.Method == "GET":
			json.NewEncoder(w).Encode(map[string]any{"incident": in})
		case r.URL.Path == "/api/v1/incidents/7/ack":
			a := in
			a.Acknowledged, a.AcknowledgedBy = time.Now(), "alice"
			json.NewEncoder(w).Encode(map[string]any{"incident": a, "action": "ack", "by": "alice"})
		default:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"error": "incident 9 not found"})
		}
	}))
	defer srv.Close()
	f := against(t, srv.URL)
	f([]string{"incidents", "--status", "open", "--since", "24h"}, "7   open    -    2026-01-05T10:00:00Z  payment  payment errors", "")
	f([]string{"incident", "show", "7"}, "cause 1: payment (errors) 0.90\n    - HighErrorRate firing", "")
	f([]string{"ack", "7"}, "incident 7: open (ack by alice)", "")
	f([]string{"resolve", "9"}, "", "404 Not Found: incident 9 not found")
	f([]string{"ack", "x"}, "", "not a positive whole number")
	if want := "GET /api/v1/incidents?since=24h&status=open"; got[0] != want {
		t.Errorf("asked %q, want %q", got[0], want)
	}
}

// against returns a check that runs a seer command against the server at
// url and compares its output and error with what they should contain.
func against(t *testing.T, url string) func(args []string, wantOut, wantErr string) {
	return func(args []string, wantOut, wantErr string) {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--server", url), nil, &out, &errb)
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: err %v, want %q", args, err, wantErr)
		}
		if !strings.Contains(out.String(), wantOut) {
			t.Errorf("%q: out %q, want %q", args, out.String(), wantOut)
		}
	}
}
