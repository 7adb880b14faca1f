package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

func TestAlarmScore(t *testing.T) {
	f := func(severity string, want float64) {
		t.Helper()
		if got := alarmScore(severity); got != want {
			t.Errorf("alarmScore(%q) = %g, want %g", severity, got, want)
		}
	}
	f("critical", 0.95)
	f("page", 0.95)
	f("error", 0.9)
	f("warning", 0.7)
	f("", 0.7)
	f("info", 0.45)
	if !(alarmScore("critical") > alarmScore("warning") && alarmScore("warning") > alarmScore("info")) {
		t.Error("severities do not weigh in order")
	}
}

// Real alerts as Alertmanager sends them, on a declared call graph
// checkout → payment → postgres: an always-firing Watchdog, then a latency
// warning on checkout, then a critical error alert on payment. The
// incident is payment's, the deepest failing dependency, never Watchdog's,
// and Watchdog is kept as history only; payment is first also when its
// alert is no more severe than checkout's.
func TestAlertsOnACallGraph(t *testing.T) {
	for _, sev := range []string{"critical", "warning"} {
		t.Run(sev, func(t *testing.T) { alertsOnACallGraph(t, sev) })
	}
}

func alertsOnACallGraph(t *testing.T, paymentSeverity string) {
	cfg := testConfig(t, t.TempDir())
	cfg.Topology = signal.Topology{Edges: []signal.Edge{{Caller: "checkout", Callee: "payment"}, {Caller: "payment", Callee: "postgres"}}}
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := time.Now().UTC().Truncate(time.Second)
	alert := func(at time.Time, labels string) string {
		return fmt.Sprintf(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{%s},"startsAt":%q}]}`, labels, at.Format(time.RFC3339))
	}
	for _, body := range []string{
		alert(now.Add(-3*time.Hour), `"alertname":"Watchdog","severity":"none"`),
		alert(now.Add(-10*time.Second), `"alertname":"HighLatency","severity":"warning","service":"checkout"`),
		alert(now.Add(-5*time.Second), `"alertname":"HighErrorRate","severity":"`+paymentSeverity+`","service":"payment"`),
	} {
		req, _ := http.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := &recorder{h: http.Header{}}
		e.in.am.Handler().ServeHTTP(w, req)
		if w.code/100 != 2 {
			t.Fatalf("webhook = %d", w.code)
		}
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obs, err := e.Store().Observations(ctx, knowledge.ObservationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	score := map[string]float64{}
	for _, o := range obs {
		score[o.Entity] = o.Score
	}
	if _, ok := score["unknown"]; ok || len(score) != 2 || score["payment"] < score["checkout"] ||
		paymentSeverity == "critical" && score["payment"] == score["checkout"] {
		t.Errorf("alarm observations %v; want payment's critical above checkout's warning, no Watchdog", score)
	}
	evs, err := e.Store().Events(ctx, knowledge.EventQuery{})
	if err != nil || len(evs) != 3 {
		t.Errorf("events %d, %v; want all three alerts kept as history", len(evs), err)
	}
	if err := e.Tick(ctx, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ins, err := e.Store().Incidents(ctx, knowledge.IncidentQuery{Limit: 10})
	if err != nil || len(ins) != 1 {
		t.Fatalf("incidents %+v, %v; want one", ins, err)
	}
	if c := ins[0].Causes; len(c) == 0 || c[0].Entity != "payment" {
		t.Errorf("causes %+v; want payment first", c)
	}
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }
