package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"github.com/seerops/seer/internal/notify"
	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu     sync.Mutex
	events []signal.Event
	got    chan struct{}
}

func (r *recorder) Ingest(_ context.Context, b *signal.Batch) error {
	r.mu.Lock()
	r.events = append(r.events, b.Events...)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) all() []signal.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]signal.Event(nil), r.events...)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

const sample = `{"version":"4","status":"firing","receiver":"seer","alerts":[
{"status":"firing","labels":{"alertname":"HighLatency","job":"cart","instance":"cart:8080","severity":"page"},
 "annotations":{"summary":"p99 over 1s"},"startsAt":"2023-11-14T22:13:20Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc"},
{"status":"resolved","labels":{"alertname":"DiskFull","service":"db","job":"node"},
 "startsAt":"2023-11-14T22:00:00Z","endsAt":"2023-11-14T22:10:00Z"}]}`

func TestDecode(t *testing.T) {
	evs, err := Decode([]byte(sample), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events; want 2", len(evs))
	}
	a, b := evs[0], evs[1]
	if a.Entity != "cart" || a.Kind != signal.EventAlarm || a.Attrs["status"] != "firing" || a.Attrs["severity"] != "page" ||
		a.Attrs["annotation.summary"] != "p99 over 1s" || a.Text != "HighLatency firing: p99 over 1s" ||
		!a.Time.Equal(time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)) || a.Source != "alertmanager" {
		t.Errorf("firing event %+v", a)
	}
	if b.Entity != "db" || b.Attrs["status"] != "resolved" || !b.Time.Equal(time.Date(2023, 11, 14, 22, 10, 0, 0, time.UTC)) {
		t.Errorf("resolved event %+v", b)
	}
	f := func(body, want string) {
		t.Helper()
		_, err := Decode([]byte(body), time.Unix(0, 0))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) error %v; want it to mention %q", body, err, want)
		}
	}
	// A label that is no entity name gives way to the next: the alarm is
	// kept, about what it can be about.
	evs, err = Decode([]byte(`{"alerts":[{"status":"firing","labels":{"alertname":"Down","service":"127.0.0.1:9999?$(touch${IFS}pwned)","job":"cart"}},
{"status":"firing","labels":{"service":"$(id)"}}]}`), time.Unix(0, 0))
	if err != nil || len(evs) != 2 || evs[0].Entity != "cart" || evs[1].Entity != "unknown" {
		t.Errorf("alerts with a bad service: %+v %v; want cart and unknown", evs, err)
	}
	f(`{"alerts":[`, "not an Alertmanager webhook message")
	f(`{"alerts":"x"}`, `field "alerts"`)
	f(`{"version":"4"}`, `no "alerts" array`)
	f(`{"alerts":[{"status":"pending"}]}`, "neither firing nor resolved")
}

func TestHandler(t *testing.T) {
	rec := &recorder{got: make(chan struct{}, 1)}
	r, err := New(DefaultConfig(), rec, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := func(method, ct, body string, code int, msg string) {
		t.Helper()
		req := httptest.NewRequest(method, "/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, req)
		if w.Code != code || !strings.Contains(w.Body.String(), msg) {
			t.Errorf("%s %s: %d %q; want %d containing %q", method, ct, w.Code, w.Body.String(), code, msg)
		}
	}
	f("POST", "application/json", sample, 200, "")
	f("POST", "text/plain", sample, 415, "not JSON")
	f("GET", "application/json", "", 405, "POST")
	f("POST", "application/json", "{", 400, "not an Alertmanager webhook message")
	f("POST", "application/json", strings.Repeat(" ", 2<<20), 413, "over")
	if n := len(rec.all()); n != 2 {
		t.Errorf("%d events; want 2", n)
	}
}

// TestAlertmanager runs a real Alertmanager: seer's notifier posts an
// incident to its v2 API, it returns the alert from GET /api/v2/alerts and
// delivers it through its webhook to the receiver.
func TestAlertmanager(t *testing.T) {
	bin := binarytest.Find(t, "prometheus-alertmanager", "prometheus-alertmanager", "/usr/bin/prometheus-alertmanager", "alertmanager")
	rec := &recorder{got: make(chan struct{}, 1)}
	r, err := New(DefaultConfig(), rec, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	seer := httptest.NewServer(r.Handler())
	defer seer.Close()

	dir := t.TempDir()
	addr := binarytest.FreeAddr(t)
	conf := binarytest.Write(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: seer
  group_by: [alertname, service]
  group_wait: 10ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: seer
    webhook_configs:
      - url: %s/api/v1/alerts/alertmanager
        send_resolved: true
`, seer.URL))
	binarytest.Start(t, bin, addr, "/-/ready", "--config.file="+conf, "--storage.path="+dir,
		"--web.listen-address="+addr, "--cluster.listen-address=")

	cfg := notify.DefaultAlertmanagerConfig()
	cfg.URL, cfg.ExternalURL = "http://"+addr, "http://seer.test:7070"
	n, err := notify.NewAlertmanager(cfg, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	in := signal.Incident{ID: 42, Status: signal.IncidentOpen, Title: "checkout errors up",
		Causes: []signal.Cause{{Entity: "payment", Kind: "errors", Score: 0.8, Evidence: []string{"payment 5xx 30%"}}}}
	if err := n.Notify(t.Context(), in); err != nil {
		t.Fatal(err)
	}

	deadline := time.After(30 * time.Second)
	for len(rec.all()) == 0 {
		select {
		case <-rec.got:
		case <-deadline:
			t.Fatal("no webhook from Alertmanager in 30s")
		}
	}
	ev := rec.all()[0]
	if ev.Entity != "payment" || ev.Kind != signal.EventAlarm || ev.Attrs["alertname"] != "SeerIncident" ||
		ev.Attrs["status"] != "firing" || ev.Attrs["incident_id"] != "42" ||
		ev.Attrs["annotation.incident_url"] != "http://seer.test:7070/#/incidents/42" {
		t.Errorf("event from Alertmanager: %+v", ev)
	}

	resp, err := http.Get("http://" + addr + "/api/v2/alerts?filter=alertname%3D%22SeerIncident%22")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		Status      struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Labels["service"] != "payment" || alerts[0].Status.State != "active" ||
		!strings.Contains(alerts[0].Annotations["root_cause"], "payment (errors)") {
		t.Errorf("GET /api/v2/alerts: %+v", alerts)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"alerts":[{"status":"firing","labels":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := Decode(body, time.Unix(0, 0))
		if err == nil {
			for _, ev := range evs {
				if ev.Entity == "" || ev.Kind != signal.EventAlarm {
					t.Fatalf("bad event %+v", ev)
				}
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode([]byte(sample), time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}

// Heartbeats (named, severity none, or firing since long before seer
// started) are marked; an alert without service, job or instance is about
// "unknown", not an entity named after it.
func TestHeartbeatsAndEntities(t *testing.T) {
	rec := &recorder{got: make(chan struct{}, 1)}
	r, err := New(DefaultConfig(), rec, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	body := `{"version":"4","status":"firing","alerts":[
{"status":"firing","labels":{"alertname":"Watchdog"},"startsAt":"` + at(-time.Minute) + `"},
{"status":"firing","labels":{"alertname":"Quiet","severity":"none","job":"x"},"startsAt":"` + at(-time.Minute) + `"},
{"status":"firing","labels":{"alertname":"Old","job":"x"},"startsAt":"` + at(-3*time.Hour) + `"},
{"status":"firing","labels":{"alertname":"New","instance":"db:9100","severity":"critical"},"startsAt":"` + at(-time.Minute) + `"}]}`
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	want := map[string][2]string{"Watchdog": {"unknown", "true"}, "Quiet": {"x", "true"}, "Old": {"x", "true"}, "New": {"db:9100", ""}}
	for _, ev := range rec.all() {
		n := ev.Attrs["alertname"]
		if got := [2]string{ev.Entity, ev.Attrs[AttrHeartbeat]}; got != want[n] {
			t.Errorf("%s: entity and heartbeat %q, want %q", n, got, want[n])
		}
	}
}
