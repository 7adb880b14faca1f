package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// A client of GET /api/v1/stream, over a socket, is told of an incident
// when inference opens it and when an operator resolves it; closing the
// engine ends its stream, so that the server's shutdown does not wait on it.
func TestIncidentStream(t *testing.T) {
	e, err := New(context.Background(), testConfig(t, t.TempDir()), quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	closed := false
	defer func() {
		if !closed {
			e.Close()
		}
	}()
	res, err := http.Get(srv.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	events := make(chan signal.Incident, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var in signal.Incident
				if json.Unmarshal([]byte(data), &in) == nil {
					events <- in
				}
			}
		}
	}()
	next := func(what string) signal.Incident {
		t.Helper()
		select {
		case in, ok := <-events:
			if !ok {
				t.Fatalf("%s: the stream ended", what)
			}
			return in
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no event", what)
		}
		return signal.Incident{}
	}
	for e.stream.Clients() != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	var obs []signal.Observation
	for i, n := range []string{"latency_p99_ms", "error_ratio", "cpu_utilization"} {
		obs = append(obs, signal.Observation{Time: now.Add(time.Duration(i) * time.Second), Start: now, Entity: "payment",
			Kind: signal.MetricAnomaly, Name: n, Score: 0.95})
	}
	if err := e.publishObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	in := next("the incident opening")
	if in.ID == 0 || in.Status != signal.IncidentOpen || !strings.Contains(strings.Join(in.Entities, ","), "payment") {
		t.Fatalf("first event %+v", in)
	}
	for len(events) > 0 { // further updates as the ranking goes on
		<-events
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/incidents/"+strconv.FormatInt(in.ID, 10)+"/resolve", nil)
	req.Header.Set("Content-Type", "application/json")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d", r2.StatusCode)
	}
	if got := next("the resolution"); got.ID != in.ID || got.Status != signal.IncidentResolved {
		t.Errorf("after resolving: %+v", got)
	}
	closed = true
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end with the engine")
		}
	}
}
