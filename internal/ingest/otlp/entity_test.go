package otlp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// TestInvalidEntityRejected sends the injection target of issue 17 as a
// service name beside a valid resource: the bad one is rejected, counted and
// reported as a partial success; the good one goes on.
func TestInvalidEntityRejected(t *testing.T) {
	r, rec, _, _ := start(t, DefaultConfig())
	js := `{"resourceMetrics":[
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"127.0.0.1:9999?$(touch${IFS}pwned)"}}]},
 "scopeMetrics":[{"metrics":[{"name":"up","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":1},{"timeUnixNano":"1700000001000000000","asDouble":1}]}}]}]},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
 "scopeMetrics":[{"metrics":[{"name":"up","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":1}]}}]}]}]}`
	w := post(t, r.Handler(), "/v1/metrics", ctJSON, "", []byte(js))
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	resp := pmetricotlp.NewExportResponse()
	if err := resp.UnmarshalJSON(w.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	ps := resp.PartialSuccess()
	if ps.RejectedDataPoints() != 2 || !strings.Contains(ps.ErrorMessage(), "bad_entity") || !strings.Contains(ps.ErrorMessage(), "letters, digits") {
		t.Errorf("partial success %d %q; want 2 rejected for a bad entity", ps.RejectedDataPoints(), ps.ErrorMessage())
	}
	ss := rec.batch().Samples
	if len(ss) != 1 || ss[0].Entity != "cart" {
		t.Errorf("samples %+v; want cart's one", ss)
	}
	if got := testutil.ToFloat64(r.guard.DroppedItems("bad_entity")); got != 2 {
		t.Errorf("dropped bad_entity = %g; want 2", got)
	}

	// A span naming a bad peer is dropped; its neighbour is kept.
	js = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeSpans":[{"spans":[
{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a","kind":3,"attributes":[{"key":"peer.service","value":{"stringValue":"db;rm -rf /"}}]},
{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"b","kind":3,"attributes":[{"key":"peer.service","value":{"stringValue":"db"}}]}]}]}]}`
	w = post(t, r.Handler(), "/v1/traces", ctJSON, "", []byte(js))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rejectedSpans":"1"`) {
		t.Errorf("traces: %d %s; want one span rejected", w.Code, w.Body)
	}
	if sp := rec.batch().Spans; len(sp) != 1 || sp[0].Operation != "b" {
		t.Errorf("spans %+v; want b only", sp)
	}
}

// TestSeriesLimitIsPartialSuccess: points dropped because the series
// tracker is full are reported to the client as rejected, not accepted.
func TestSeriesLimitIsPartialSuccess(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Series.MaxSeries = 1
	r, _, _, _ := start(t, cfg)
	sum := func(ts string) string {
		return `{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
"scopeMetrics":[{"metrics":[{"name":"requests_total","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
{"timeUnixNano":"` + ts + `","asDouble":5,"attributes":[{"key":"route","value":{"stringValue":"/a"}}]},
{"timeUnixNano":"` + ts + `","asDouble":5,"attributes":[{"key":"route","value":{"stringValue":"/b"}}]}]}}]}]}]}`
	}
	for i, ts := range []string{"1700000000000000000", "1700000010000000000"} {
		w := post(t, r.Handler(), "/v1/metrics", ctJSON, "", []byte(sum(ts)))
		resp := pmetricotlp.NewExportResponse()
		if err := resp.UnmarshalJSON(w.Body.Bytes()); w.Code != 200 || err != nil {
			t.Fatalf("%d %s %v", w.Code, w.Body, err)
		}
		ps := resp.PartialSuccess()
		if ps.RejectedDataPoints() != 1 || !strings.Contains(ps.ErrorMessage(), "otlp.series.max_series") {
			t.Errorf("request %d: partial success %d %q; want the second series rejected", i, ps.RejectedDataPoints(), ps.ErrorMessage())
		}
	}
}
