package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRunApprove(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "/9/") {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(map[string]string{"error": "nothing is waiting for approval"})
			return
		}
		decision := "approved"
		if strings.HasSuffix(r.URL.Path, "/reject") {
			decision = "rejected"
		}
		json.NewEncoder(w).Encode(map[string]any{"decision": decision, "by": "alice",
			"executions": []map[string]any{{"runbook": "restart", "step": "kill", "input": "exec: ./restart.sh"}}})
	}))
	defer srv.Close()
	f := func(args []string, wantOut, wantErr string) {
		t.Helper()
		var out, errb bytes.Buffer
		err := runApprove(context.Background(), args, &out, &errb)
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: err %v, want %q", args, err, wantErr)
		}
		if !strings.Contains(out.String(), wantOut) {
			t.Errorf("%q: out %q, want %q", args, out.String(), wantOut)
		}
	}
	t.Setenv("SEER_TOKEN", "seer_secret")
	f([]string{"approve", "42", "--server", srv.URL}, "incident 42: approved by alice\n  restart/kill  exec: ./restart.sh", "")
	f([]string{"reject", "42", "--server", srv.URL, "--reason", "not now"}, "rejected", "")
	f([]string{"approve", "9", "--server", srv.URL}, "", "409 Conflict: nothing is waiting for approval")
	f([]string{"approve", "x", "--server", srv.URL}, "", "not a positive whole number")
	f([]string{"approve", "--server", srv.URL}, "", "give one incident id")
	want := []string{
		`POST /api/v1/incidents/42/approve Bearer seer_secret {}`,
		`POST /api/v1/incidents/42/reject Bearer seer_secret {"reason":"not now"}`,
	}
	if len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests %q, want %q", got, want)
	}
	var out, errb bytes.Buffer
	if err := runApprove(context.Background(), []string{"approve", "1", "--server", "http://127.0.0.1:1"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "is seer running?") {
		t.Errorf("no server: %v", err)
	}
	if err := runApprove(context.Background(), []string{"approve"}, &out, &errb); !errors.Is(err, errUsage) {
		t.Errorf("no id: %v", err)
	}
}
