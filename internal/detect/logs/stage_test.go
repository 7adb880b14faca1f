package logs

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func rec(entity string, at time.Duration, sev signal.Severity, body string) signal.LogRecord {
	return signal.LogRecord{Time: t0.Add(at), Entity: entity, Severity: sev, Body: body}
}

// steady makes one info record every 5 s from..to, and one error a minute.
func steady(entity string, from, to time.Duration) []signal.LogRecord {
	var out []signal.LogRecord
	for at := from; at < to; at += 5 * time.Second {
		out = append(out, rec(entity, at, signal.SeverityInfo, fmt.Sprintf("GET /api/cart/%d 200 %dms", at/time.Second, at/time.Second%90)))
		if at%time.Minute == 0 {
			out = append(out, rec(entity, at+time.Second, signal.SeverityError, fmt.Sprintf("payment call failed after %dms", at/time.Second%900)))
		}
	}
	return out
}

func kinds(obs []signal.Observation) map[signal.ObsKind]int {
	m := map[signal.ObsKind]int{}
	for _, o := range obs {
		m[o.Kind]++
		if o.Score < 0 || o.Score > 1 || o.Start.After(o.Time) {
			panic(fmt.Sprintf("bad observation %v start %v", o, o.Start))
		}
	}
	return m
}

func TestStageNewTemplate(t *testing.T) {
	s := NewStage(Config{}, nil)
	obs := s.Process(steady("cart", 0, 10*time.Minute))
	if len(obs) != 0 {
		t.Fatalf("steady traffic gave %v", obs)
	}
	// In warm-up: learned silently.
	if obs := s.Process([]signal.LogRecord{rec("web", 10*time.Minute, signal.SeverityInfo, "cache warmed in 30ms")}); len(obs) != 0 {
		t.Errorf("warm-up template reported: %v", obs)
	}
	body := "disk quota exceeded for volume data " + strings.Repeat("x", 600)
	obs = s.Process([]signal.LogRecord{
		rec("cart", 10*time.Minute+time.Second, signal.SeverityWarn, body),
		rec("cart", 10*time.Minute+2*time.Second, signal.SeverityWarn, body),
	})
	if len(obs) != 1 || obs[0].Kind != signal.LogNewTemplate || obs[0].Entity != "cart" {
		t.Fatalf("got %v, want one new template for cart", obs)
	}
	o := obs[0]
	if !o.Start.Equal(t0.Add(10*time.Minute+time.Second)) || len(o.Evidence["example"]) != exampleMax || o.Evidence["count"] != "1" || !strings.HasPrefix(o.Evidence["template"], "disk quota exceeded") {
		t.Errorf("observation %v evidence %q", o, o.Evidence)
	}
	var found bool
	for _, tm := range s.Templates() {
		found = found || fmt.Sprint(tm.ID) == o.Name
	}
	if !found {
		t.Errorf("template %s not in Templates()", o.Name)
	}
}

func TestStageErrorBurst(t *testing.T) {
	s := NewStage(Config{}, nil)
	recs := steady("cart", 0, 10*time.Minute)
	// Two stray errors are not a burst.
	recs = append(recs, rec("cart", 10*time.Minute+time.Second, signal.SeverityError, "payment call failed after 3ms"),
		rec("cart", 10*time.Minute+2*time.Second, signal.SeverityError, "payment call failed after 4ms"))
	if obs := s.Process(recs); len(obs) != 0 {
		t.Fatalf("stray errors gave %v", obs)
	}
	s.Tick(t0.Add(11 * time.Minute))
	burst := func(at time.Duration) []signal.Observation {
		var rs []signal.LogRecord
		for i := range 30 {
			rs = append(rs, rec("cart", at+time.Duration(i)*200*time.Millisecond, signal.SeverityError, fmt.Sprintf("payment call failed after %dms", i)))
		}
		return s.Process(rs)
	}
	obs := burst(11 * time.Minute)
	if k := kinds(obs); k[signal.LogErrorBurst] != 1 {
		t.Fatalf("burst gave %v", obs)
	}
	var o signal.Observation
	for _, x := range obs {
		if x.Kind == signal.LogErrorBurst {
			o = x
		}
	}
	if !o.Start.Equal(t0.Add(11*time.Minute)) || o.Score <= 0.3 || o.Evidence["template"] != "payment call failed after <*>" {
		t.Errorf("error burst %v start %v evidence %v", o, o.Start, o.Evidence)
	}
	// Persisting: suppressed.
	if k := kinds(burst(11*time.Minute + 40*time.Second)); k[signal.LogErrorBurst] != 0 {
		t.Errorf("persisting burst fired again: %v", k)
	}
	// Gone for longer than Repeat, then back: fires again.
	s.Tick(t0.Add(15 * time.Minute))
	if k := kinds(burst(15*time.Minute + 10*time.Second)); k[signal.LogErrorBurst] != 1 {
		t.Errorf("returning burst: %v", k)
	}
}

func TestStageTemplateBurst(t *testing.T) {
	s := NewStage(Config{}, nil)
	s.Process(steady("cart", 0, 10*time.Minute))
	var rs []signal.LogRecord
	for i := range 200 {
		rs = append(rs, rec("cart", 10*time.Minute+time.Duration(i)*100*time.Millisecond, signal.SeverityInfo, fmt.Sprintf("GET /api/cart/%d 200 %dms", i, i)))
	}
	obs := s.Process(rs)
	if k := kinds(obs); k[signal.LogBurst] != 1 || len(obs) != 1 {
		t.Fatalf("burst gave %v", obs)
	}
	if obs[0].Actual < 20 || obs[0].Expected > 10 {
		t.Errorf("burst %v actual %v expected %v", obs[0], obs[0].Actual, obs[0].Expected)
	}
}

func TestStageConcurrent(t *testing.T) {
	s := NewStage(Config{WarmUp: time.Second}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				s.Process([]signal.LogRecord{rec(fmt.Sprint("svc", g), time.Duration(i)*time.Second, signal.SeverityError, fmt.Sprintf("op%d failed", i%3))})
				if i%10 == 0 {
					s.Tick(t0.Add(time.Duration(i) * time.Second))
					s.Templates()
				}
			}
		})
	}
	wg.Wait()
	if len(s.Templates()) == 0 {
		t.Error("no templates")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	err := Config{Alpha: 2, PValue: 1, Window: -1, Miner: MinerConfig{SimThreshold: 1.5, MaxTokens: 1}}.Validate()
	for _, want := range []string{"alpha", "p_value", "window", "sim_threshold", "max_tokens"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestPoissonTail(t *testing.T) {
	f := func(k int, lambda, want float64) {
		t.Helper()
		got := poissonLogTail(k, lambda)
		if d := got - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("ln P(X≥%d; %v) = %v, want %v", k, lambda, got, want)
		}
	}
	f(0, 3, 0)
	f(1, 1, -0.45867514538708193)  // ln(1-e^-1)
	f(5, 0.1, -16.383650781624365) // by direct summation
}

func BenchmarkStageProcess(b *testing.B) {
	s := NewStage(Config{}, nil)
	lines := benchLines(4096)
	recs := make([]signal.LogRecord, len(lines))
	for i, l := range lines {
		sev := signal.SeverityInfo
		if i%50 == 0 {
			sev = signal.SeverityError
		}
		recs[i] = signal.LogRecord{Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Entity: fmt.Sprint("svc", i%8), Severity: sev, Body: l}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := recs[i%len(recs)]
		r.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		s.Process([]signal.LogRecord{r})
	}
}

// mixed makes a steady stream of three templates for an entity, one record
// every 100 ms from..to, and a fourth template every 2,500 records.
func mixed(entity string, from, to time.Duration) []signal.LogRecord {
	var out []signal.LogRecord
	i := 0
	for at := from; at < to; at += 100 * time.Millisecond {
		var body string
		switch {
		case i%2500 == 7:
			body = fmt.Sprintf("cache rebuilt with %d entries", i)
		case i%3 == 0:
			body = fmt.Sprintf("GET /api/cart/%d 200 %dms", i, i%90)
		case i%3 == 1:
			body = fmt.Sprintf("user u%d added item %d", i%50, i)
		default:
			body = fmt.Sprintf("stock check for sku-%d ok", i%700)
		}
		out = append(out, rec(entity, at, signal.SeverityInfo, body))
		i++
	}
	return out
}

// TestStageSteadyQuiet feeds an hour of a steady mixed stream, ticking
// every 10 s, and wants no observation at all after warm-up.
func TestStageSteadyQuiet(t *testing.T) {
	s := NewStage(Config{}, nil)
	recs := mixed("cart", 0, time.Hour)
	var obs []signal.Observation
	for i, j := 0, 0; i < len(recs); i = j {
		for j = i; j < len(recs) && recs[j].Time.Sub(recs[i].Time) < 10*time.Second; j++ {
		}
		obs = append(obs, s.Process(recs[i:j])...)
		obs = append(obs, s.Tick(recs[j-1].Time.Add(time.Millisecond))...)
	}
	if len(obs) != 0 {
		t.Errorf("steady stream gave %d observations, first %v", len(obs), obs[0])
	}
}

func TestStageRare(t *testing.T) {
	s := NewStage(Config{}, nil)
	// During warm-up the odd line is learned.
	s.Process([]signal.LogRecord{rec("cart", time.Second, signal.SeverityWarn, "failover to replica db-2 started")})
	s.Process(mixed("cart", 2*time.Second, 10*time.Minute))
	obs := s.Process([]signal.LogRecord{rec("cart", 10*time.Minute+time.Second, signal.SeverityWarn, "failover to replica db-3 started")})
	if len(obs) != 1 || obs[0].Kind != signal.LogRare || obs[0].Entity != "cart" {
		t.Fatalf("got %v, want one rare template", obs)
	}
	o := obs[0]
	if o.Evidence["count"] != "2" || o.Evidence["example"] != "failover to replica db-3 started" || o.Score <= 0 || o.Score >= 0.6 {
		t.Errorf("rare %v evidence %v", o, o.Evidence)
	}
	// Again at once: suppressed; known well by now: quiet.
	if obs := s.Process([]signal.LogRecord{rec("cart", 10*time.Minute+2*time.Second, signal.SeverityWarn, "failover to replica db-4 started")}); len(obs) != 0 {
		t.Errorf("repeat gave %v", obs)
	}
}

func TestStageSilence(t *testing.T) {
	s := NewStage(Config{}, nil)
	recs := mixed("cart", 0, 10*time.Minute)
	s.Process(recs)
	s.Tick(t0.Add(10 * time.Minute))
	// The stock checks stop; the rest goes on.
	var obs []signal.Observation
	i := 6000
	for at := 10 * time.Minute; at < 12*time.Minute; at += 100 * time.Millisecond {
		switch i % 3 {
		case 0:
			obs = append(obs, s.Process([]signal.LogRecord{rec("cart", at, signal.SeverityInfo, fmt.Sprintf("GET /api/cart/%d 200 %dms", i, i%90))})...)
		case 1:
			obs = append(obs, s.Process([]signal.LogRecord{rec("cart", at, signal.SeverityInfo, fmt.Sprintf("user u%d added item %d", i%50, i))})...)
		}
		i++
		if at%(10*time.Second) == 0 {
			obs = append(obs, s.Tick(t0.Add(at))...)
		}
	}
	k := kinds(obs)
	if k[signal.LogSilence] != 1 || len(obs) != 1 {
		t.Fatalf("got %v, want one silence", obs)
	}
	o := obs[0]
	if o.Evidence["template"] != "stock check for sku-<*> ok" || o.Direction() != "down" || o.Expected < 50 || o.Time.Sub(o.Start) > 2*time.Minute {
		t.Errorf("silence %v evidence %v", o, o.Evidence)
	}
	// A whole service going quiet is not a template's silence.
	if obs := s.Tick(t0.Add(20 * time.Minute)); len(obs) != 0 {
		t.Errorf("quiet entity gave %v", obs)
	}
}

// A steady warning that stops (slow requests, retries) is trouble
// receding: no silence.
func TestWarningStoppingIsNoSilence(t *testing.T) {
	s := NewStage(Config{}, nil)
	var recs []signal.LogRecord
	for i, at := 0, time.Duration(0); at < 10*time.Minute; i, at = i+1, at+100*time.Millisecond {
		if i%2 == 0 {
			recs = append(recs, rec("cart", at, signal.SeverityInfo, fmt.Sprintf("GET /api/cart/%d 200 %dms", i, i%90)))
		} else {
			recs = append(recs, rec("cart", at, signal.SeverityWarn, fmt.Sprintf("slow request: GET /api/cart/%d took %dms (threshold 200ms)", i, 200+i%90)))
		}
	}
	s.Process(recs)
	s.Tick(t0.Add(10 * time.Minute))
	var obs []signal.Observation
	for i, at := 0, 10*time.Minute; at < 12*time.Minute; i, at = i+1, at+100*time.Millisecond {
		obs = append(obs, s.Process([]signal.LogRecord{rec("cart", at, signal.SeverityInfo, fmt.Sprintf("GET /api/cart/%d 200 %dms", i, i%90))})...)
		if at%(10*time.Second) == 0 {
			obs = append(obs, s.Tick(t0.Add(at))...)
		}
	}
	if k := kinds(obs); k[signal.LogSilence] != 0 {
		t.Fatalf("a warning that stopped was reported silent: %v", obs)
	}
}

func TestStageSnapshot(t *testing.T) {
	s := NewStage(Config{}, nil)
	s.Process(mixed("cart", 0, 10*time.Minute))
	s.Process(steady("web", 0, 10*time.Minute))
	snap, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := NewStage(Config{}, nil)
	if err := r.UnmarshalBinary(snap); err != nil {
		t.Fatalf("restoring: %v", err)
	}
	if fmt.Sprint(r.Templates()) != fmt.Sprint(s.Templates()) || r.Stats() != s.Stats() {
		t.Fatalf("restored templates differ")
	}
	// Both go on alike: the restored one knows its baselines and
	// reports nothing new for known traffic, and the same new template.
	more := append(mixed("cart", 10*time.Minute, 11*time.Minute), rec("cart", 11*time.Minute, signal.SeverityError, "disk full on /var"))
	a, b := s.Process(more), r.Process(more)
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 1 || a[0].Kind != signal.LogNewTemplate {
		t.Errorf("original %v, restored %v", a, b)
	}
	for _, bad := range [][]byte{nil, []byte("SEERLOG\x01garbage"), snap[:len(snap)/2], []byte("SEERLOG\x02")} {
		if err := r.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%.20q) accepted", bad)
		}
	}
}

func FuzzStageUnmarshal(f *testing.F) {
	s := NewStage(Config{}, nil)
	s.Process(steady("web", 0, time.Minute))
	snap, _ := s.MarshalBinary()
	f.Add(snap)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewStage(Config{}, nil)
		if r.UnmarshalBinary(b) == nil {
			r.Process(steady("web", time.Minute, 2*time.Minute))
			r.Tick(t0.Add(3 * time.Minute))
		}
	})
}

// History keeps a template's counts per window, the closed ones and the
// current, and example lines, for showing a burst before and after.
func TestStageHistory(t *testing.T) {
	s := NewStage(Config{}, nil)
	s.Process(steady("cart", 0, 10*time.Minute)) // 6 a 30-s window
	var burst []signal.LogRecord
	for i := range 40 {
		burst = append(burst, rec("cart", 10*time.Minute+time.Duration(i)*500*time.Millisecond, signal.SeverityInfo,
			fmt.Sprintf("GET /api/cart/%d 200 %dms", 9000+i, i)))
	}
	obs := s.Process(burst)
	var id uint64
	for _, o := range obs {
		if o.Kind == signal.LogBurst {
			fmt.Sscan(o.Name, &id)
		}
	}
	if id == 0 {
		t.Fatalf("no burst: %v", obs)
	}
	s.Tick(t0.Add(11 * time.Minute)) // closes the burst's windows
	h, ok := s.History("cart", id)
	if !ok {
		t.Fatal("no history")
	}
	// Since the template was first seen: 20 windows of 6, the burst's 40,
	// one empty, and the current (empty) one.
	if h.Window != DefaultWindow || !strings.HasPrefix(h.Template, "GET ") || len(h.Windows) != 23 {
		t.Fatalf("history %+v", h)
	}
	last := len(h.Windows) - 1
	if h.Windows[last].Count != 0 || h.Windows[last-1].Count != 0 || h.Windows[last-2].Count != 40 || h.Windows[last-3].Count != 6 || h.Windows[0].Count != 6 {
		t.Errorf("counts %+v", h.Windows)
	}
	if !h.Windows[last].Start.Equal(t0.Add(11*time.Minute)) || !h.Windows[0].Start.Equal(t0) {
		t.Errorf("windows from %v to %v", h.Windows[0].Start, h.Windows[last].Start)
	}
	if len(h.Examples) == 0 || !strings.HasPrefix(h.Examples[len(h.Examples)-1], "GET /api/cart/9039") {
		t.Errorf("examples %q", h.Examples)
	}
	// Later, only the last HistoryWindows closed ones are kept.
	s.Process([]signal.LogRecord{rec("cart", 40*time.Minute, signal.SeverityInfo, "GET /api/cart/1 200 1ms")})
	h, _ = s.History("cart", id)
	if len(h.Windows) != HistoryWindows+1 || !h.Windows[0].Start.Equal(t0.Add(20*time.Minute)) || h.Windows[HistoryWindows].Count != 1 {
		t.Errorf("after 40 minutes: %d windows from %v, current %+v", len(h.Windows), h.Windows[0].Start, h.Windows[len(h.Windows)-1])
	}
	if _, ok := s.History("cart", id+12345); ok {
		t.Error("a template never seen has a history")
	}
	if _, ok := s.History("nobody", id); ok {
		t.Error("an entity never seen has a history")
	}
}
