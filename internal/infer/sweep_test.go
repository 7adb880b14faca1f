package infer

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	inf := New(Config{}, nil, nil)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	var samples []signal.Sample
	for m := range 30 {
		at := t0.Add(time.Duration(m) * time.Minute)
		lat, zero := 0.05*(1+0.05*r.NormFloat64()), 0.0
		if m >= 27 { // the newest three minutes
			lat, zero = 0.5, 0.8
		}
		samples = append(samples,
			signal.Sample{Time: at, Entity: "cart", Name: "http_server_request_duration_seconds_p99", Value: lat},
			// A series that sat at 0 gives no noise to judge by.
			signal.Sample{Time: at, Entity: "cart", Name: "process_cpu_usage_ratio", Value: zero},
			// A series seen for two minutes has too little history.
			signal.Sample{Time: at, Entity: "new", Name: "http_server_request_duration_seconds_p99", Value: map[bool]float64{true: 0.01, false: 0}[m >= 28] + lat*float64(min(1, max(0, m-27)))},
		)
	}
	// A series that started three minutes before the change, a point a
	// minute (a cold start), is judged; one scraped every 15 s for 45 s
	// before it is not, however many points it has.
	for m := 24; m < 30; m++ {
		lat := 0.05 * (1 + 0.05*r.NormFloat64())
		if m >= 27 {
			lat = 0.5
		}
		samples = append(samples, signal.Sample{Time: t0.Add(time.Duration(m) * time.Minute), Entity: "young", Name: "http_server_request_duration_seconds_p99", Value: lat})
	}
	for q := 26 * 4; q < 30*4; q++ {
		lat := 0.05 * (1 + 0.05*r.NormFloat64())
		if q >= 27*4 {
			lat = 0.5
		}
		samples = append(samples, signal.Sample{Time: t0.Add(time.Duration(q) * 15 * time.Second), Entity: "brief", Name: "http_server_request_duration_seconds_p99", Value: lat})
	}
	inf.AddSamples(samples)
	now := t0.Add(29 * time.Minute)
	obs := inf.Sweep(now)
	got := map[string]bool{}
	for _, o := range obs {
		if o.Name != "http_server_request_duration_seconds_p99" || o.Kind != signal.MetricAnomaly {
			t.Errorf("swept %+v", o)
		}
		got[o.Entity] = true
	}
	if len(obs) != 2 || !got["cart"] || !got["young"] {
		t.Fatalf("swept %+v, want the latency of cart and young alone", obs)
	}
	// Within the same minute nothing is swept again, and within Quiet the
	// same change is not reported twice.
	if again := inf.Sweep(now.Add(30 * time.Second)); len(again) != 0 {
		t.Errorf("swept again within a minute: %+v", again)
	}
	if again := inf.Sweep(now.Add(2 * time.Minute)); len(again) != 0 {
		t.Errorf("reported again within quiet: %+v", again)
	}
}
