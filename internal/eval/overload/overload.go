// Package overload measures whether seer stays within its memory limit and
// recovers when its receivers are sent far more than it can take. It starts
// `seer run` as a child process on loopback with a memory limit, measures
// the rate seer sustains on a mix of OTLP/HTTP metrics and logs, OTLP/gRPC
// metrics and Prometheus remote_write in small and big batches, then offers
// a multiple of that rate from many connections for a while, sampling the
// child's resident memory from /proc, and finally times how long a small
// probe request takes to be as fast as before the load.
package overload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// Config is one run of the benchmark.
type Config struct {
	// Bin is the seer binary to start as `Bin run ...`.
	Bin string
	// Env is added to the child's environment.
	Env []string
	// Dir holds the child's configuration and data directory; a temporary
	// directory, removed afterwards, when empty.
	Dir string
	// Limit and Spike are the child's memory.limit_bytes and
	// memory.spike_bytes; Spike 0 is 3/8 of Limit, as in seer's default.
	Limit, Spike int64
	// Baseline is how long the probe's latency is measured before the load.
	Baseline time.Duration
	// Calibrate is how long the sustainable rate is measured: the rate
	// seer accepts from CalibConns connections per class sending back to
	// back, enough to saturate it (the first third is warm-up).
	Calibrate  time.Duration
	CalibConns int
	// Duration is how long the overload lasts.
	Duration time.Duration
	// Factor is the multiple of the sustainable rate offered.
	Factor float64
	// Conns is the connections (each from its own loopback address) per
	// class of request during the overload; there are 8 classes.
	Conns int
	// Small and Big are the items per request of the two batch sizes.
	Small, Big int
	// Sample is how often the child's memory is read.
	Sample time.Duration
	// RecoverWithin is the longest recovery that passes; RecoverWait is how
	// long recovery is watched for before giving up.
	RecoverWithin, RecoverWait time.Duration
	// Log, when set, reports progress.
	Log *slog.Logger
}

// DefaultConfig is the full run: 10 minutes at 5× under the default 1 GiB.
func DefaultConfig() Config {
	return Config{
		Limit:         1 << 30,
		Baseline:      5 * time.Second,
		Calibrate:     30 * time.Second,
		CalibConns:    6,
		Duration:      10 * time.Minute,
		Factor:        5,
		Conns:         32,
		Small:         500,
		Big:           100_000,
		Sample:        100 * time.Millisecond,
		RecoverWithin: 30 * time.Second,
		RecoverWait:   60 * time.Second,
	}
}

// ShortConfig is the CI run: 20 s at 5× under 512 MiB.
func ShortConfig() Config {
	c := DefaultConfig()
	c.Limit = 512 << 20
	c.Baseline, c.Calibrate, c.Duration = 3*time.Second, 9*time.Second, 20*time.Second
	c.Conns = 24
	c.Big = 50_000
	c.RecoverWait = 35 * time.Second
	return c
}

// Check is one pass/fail criterion.
type Check struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
}

// Class is what one class of request saw during the overload.
type Class struct {
	Name      string `json:"name"`
	Items     int    `json:"items_per_request"`
	BodyBytes int    `json:"body_bytes"`
	// Sustainable is the items/s seer accepted in calibration.
	Sustainable float64 `json:"sustainable_per_s"`
	// Offered and Accepted are items/s during the overload.
	Offered  float64 `json:"offered_per_s"`
	Accepted float64 `json:"accepted_per_s"`
	// Requests by outcome: accepted, refused (429, RESOURCE_EXHAUSTED),
	// shed (503, UNAVAILABLE), other, failed (no answer).
	Requests map[string]int64 `json:"requests"`
}

// Report is the outcome of a run.
type Report struct {
	Limit    int64   `json:"limit_bytes"`
	Soft     int64   `json:"soft_limit_bytes"`
	Duration string  `json:"duration"`
	Factor   float64 `json:"factor"`
	// Sustainable is the items/s accepted in calibration, all classes.
	Sustainable float64 `json:"sustainable_per_s"`
	// Offered and Accepted are items/s during the overload.
	Offered  float64 `json:"offered_per_s"`
	Accepted float64 `json:"accepted_per_s"`
	Classes  []Class `json:"classes"`
	// Requests sums the classes' requests by outcome.
	Requests map[string]int64 `json:"requests"`
	// ServerRequests is seer's own count of ingest requests by outcome
	// (seer_ingest_requests_total by reason), over the whole run.
	ServerRequests map[string]float64 `json:"server_requests"`
	// RSSPeak is the largest VmRSS sampled; HWM is the kernel's VmHWM at
	// the end (the peak over the child's whole life).
	RSSPeak   int64   `json:"rss_peak_bytes"`
	HWM       int64   `json:"vm_hwm_bytes"`
	PeakAfter string  `json:"rss_peak_after"` // since the overload began
	Samples   int     `json:"rss_samples"`
	SeerCPU   float64 `json:"seer_cpu_seconds"`      // during the overload
	GenCPU    float64 `json:"generator_cpu_seconds"` // this process, during the overload
	// Probe latencies: median before, during and at recovery.
	BaselineP50 string  `json:"baseline_p50"`
	OverloadP50 string  `json:"overload_p50"`
	RecoveredIn string  `json:"recovered_in"` // "" when it did not
	Checks      []Check `json:"checks"`
}

// Pass reports whether every check passed.
func (r Report) Pass() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return len(r.Checks) > 0
}

// JSON is the report as indented JSON.
func (r Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

func (r *Report) add(name, want, got string, pass bool) {
	r.Checks = append(r.Checks, Check{Name: name, Want: want, Got: got, Pass: pass})
}

// Run runs the benchmark. An error is a run that could not be made (seer
// did not start, say); a run whose checks fail returns its report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Spike == 0 {
		cfg.Spike = cfg.Limit * 3 / 8
	}
	logf := func(msg string, args ...any) {
		if cfg.Log != nil {
			cfg.Log.Info(msg, args...)
		}
	}
	rep := Report{Limit: cfg.Limit, Soft: cfg.Limit - cfg.Spike, Duration: cfg.Duration.String(), Factor: cfg.Factor}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "seer-overload-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cs := classes(cfg.Small, cfg.Big, time.Now())
	for _, c := range cs {
		logf("class", "name", c.name, "items", c.items, "body_bytes", c.bytes())
	}
	seer, err := startChild(ctx, cfg.Bin, cfg.Env, dir, cfg.Limit, cfg.Spike)
	if err != nil {
		return rep, err
	}
	defer seer.stop()
	pid := seer.cmd.Process.Pid
	mem := startSampler(pid, cfg.Sample)
	defer mem.result()
	var phase atomic.Pointer[string]
	setPhase := func(p string) { phase.Store(&p) }
	setPhase("baseline")
	if cfg.Log != nil {
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go progress(pctx, cfg.Log, pid, seer.api, &phase)
	}
	probe := newProber(seer.otlpHTTP)
	defer probe.close()

	// The probe's latency on an idle seer.
	base := probe.run(ctx, cfg.Baseline, 50*time.Millisecond)
	if base.failed > 0 || len(base.lat) == 0 {
		return rep, fmt.Errorf("%d of %d probe requests failed before any load:\n%s", base.failed, base.failed+len(base.lat), seer.out.String())
	}
	baseP50 := median(base.lat)
	rep.BaselineP50 = round(baseP50).String()
	logf("baseline", "probe_p50", baseP50)

	// The sustainable rate: what seer accepts, saturated by connections
	// sending back to back.
	setPhase("calibration")
	sources := &sourcePool{}
	calib := make([]*tally, len(cs))
	for i := range calib {
		calib[i] = &tally{}
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.Calibrate)
	var warm [][numOutcomes]int64
	var warmed sync.WaitGroup
	warmed.Go(func() {
		select {
		case <-time.After(cfg.Calibrate / 3):
		case <-cctx.Done():
		}
		for _, t := range calib {
			_, items := t.snapshot()
			warm = append(warm, items)
		}
	})
	err = drive(cctx, cs, cfg.CalibConns, nil, sources, seer.otlpHTTP, seer.api, seer.otlpGRPC, calib)
	cancel()
	warmed.Wait()
	if err != nil {
		return rep, err
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	window := (cfg.Calibrate - cfg.Calibrate/3).Seconds()
	rates := make([]float64, len(cs))
	for i, t := range calib {
		_, items := t.snapshot()
		rates[i] = max(float64(items[accepted]-warm[i][accepted])/window, float64(cs[i].items)/window)
		rep.Sustainable += rates[i]
		rep.Classes = append(rep.Classes, Class{Name: cs[i].name, Items: cs[i].items, BodyBytes: cs[i].bytes(), Sustainable: rates[i]})
	}
	logf("sustainable", "items_per_s", int(rep.Sustainable))

	// The overload: Factor × the sustainable rate of each class, or of
	// what seer accepted of it over the last 3 s when that is more (the
	// calibration ran on a cold seer, and other jobs come and go), and a
	// quarter more so that what is offered stays at least Factor × when a
	// worker misses its slot.
	load := make([]*tally, len(cs))
	pacers := make([]*pacer, len(cs))
	for i := range load {
		load[i] = &tally{}
		pacers[i] = newPacer(rates[i]*cfg.Factor*1.25, cs[i].items)
	}
	if !seer.alive() {
		return rep, fmt.Errorf("seer exited during calibration: %s\n%s", seer.cmd.ProcessState, seer.out.String())
	}
	setPhase("overload")
	cpu0, gen0 := cpuOf(pid), selfCPU()
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	var during probeResult
	var wg sync.WaitGroup
	wg.Go(func() { during = probe.run(lctx, cfg.Duration, 250*time.Millisecond) })
	wg.Go(func() { follow(lctx, pacers, load, rates, cfg.Factor*1.25) })
	logf("overload", "duration", cfg.Duration, "offered_items_per_s", int(rep.Sustainable*cfg.Factor*1.25), "conns", cfg.Conns*len(cs))
	err = drive(lctx, cs, cfg.Conns, pacers, sources, seer.otlpHTTP, seer.api, seer.otlpGRPC, load)
	cancel()
	wg.Wait()
	stopped := time.Now()
	elapsed := stopped.Sub(start).Seconds()
	rep.SeerCPU, rep.GenCPU = cpuOf(pid)-cpu0, selfCPU()-gen0
	if err != nil {
		return rep, err
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	rep.Requests = make(map[string]int64)
	for i, t := range load {
		reqs, items := t.snapshot()
		c := &rep.Classes[i]
		c.Requests = make(map[string]int64)
		var all int64
		for o := range numOutcomes {
			c.Requests[outcomeNames[o]] = reqs[o]
			rep.Requests[outcomeNames[o]] += reqs[o]
			all += items[o]
		}
		c.Offered, c.Accepted = float64(all)/elapsed, float64(items[accepted])/elapsed
		rep.Offered += c.Offered
		rep.Accepted += c.Accepted
	}
	if len(during.lat) > 0 {
		rep.OverloadP50 = round(median(during.lat)).String()
	}
	logf("overload done", "offered_items_per_s", int(rep.Offered), "accepted_items_per_s", int(rep.Accepted), "requests", rep.Requests)

	setPhase("recovery")
	// Recovery: windows of a second of probes, until three in a row are
	// all answered 2xx with a median within twice the baseline's.
	recovered, in := probe.recovery(ctx, 2*baseP50, cfg.RecoverWait, stopped)
	if recovered {
		rep.RecoveredIn = round(in).String()
	}
	logf("recovery", "recovered", recovered, "after", in)

	rep.ServerRequests, _ = scrapeCounters(seer.api, "seer_ingest_requests_total", "outcome")
	alive := seer.alive()
	last, _ := readMemory(pid)
	peak, peakAt, n := mem.result()
	rep.RSSPeak, rep.HWM, rep.Samples = peak.rss, max(peak.hwm, last.hwm), n
	if !peakAt.IsZero() {
		rep.PeakAfter = round(peakAt.Sub(start)).String()
	}

	rep.add("offered load", fmt.Sprintf("≥ %.1f× the sustainable %s items/s", cfg.Factor, si(rep.Sustainable)),
		fmt.Sprintf("%.2f× (%s items/s)", rep.Offered/rep.Sustainable, si(rep.Offered)), rep.Offered >= cfg.Factor*rep.Sustainable)
	rep.add("offered load vs accepted", fmt.Sprintf("≥ %.1f× the %s items/s seer accepted", cfg.Factor, si(rep.Accepted)),
		fmt.Sprintf("%.2f×", rep.Offered/max(rep.Accepted, 1)), rep.Offered >= cfg.Factor*rep.Accepted)
	limited := rep.Requests["refused"] + rep.Requests["shed"]
	rep.add("seer refused part of it", "> 0 requests answered 429/503", fmt.Sprintf("%d of %d", limited, total(rep.Requests)), limited > 0)
	rep.add("seer stayed up", "running", map[bool]string{true: "running", false: "exited"}[alive], alive)
	rep.add("RSS peak (VmHWM)", "< "+mib(cfg.Limit), mib(rep.HWM), rep.HWM > 0 && rep.HWM < cfg.Limit)
	got := "not within " + cfg.RecoverWait.String()
	if recovered {
		got = round(in).String()
	}
	rep.add("recovery to the baseline latency", fmt.Sprintf("≤ %s (probe p50 ≤ 2 × %s, all 2xx)", cfg.RecoverWithin, round(baseP50)),
		got, recovered && in <= cfg.RecoverWithin)
	if !alive {
		return rep, fmt.Errorf("seer exited during the run: %s\n%s", seer.cmd.ProcessState, seer.out.String())
	}
	return rep, nil
}

// follow sets each class's pacer, every second, to factor × the larger of
// its sustainable rate and what seer accepted of it over the last 3 s.
func follow(ctx context.Context, pacers []*pacer, load []*tally, sustainable []float64, factor float64) {
	const window = 3   // seconds
	var past [][]int64 // per second, the accepted items of each class
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		now := make([]int64, len(load))
		for i, l := range load {
			_, items := l.snapshot()
			now[i] = items[accepted]
		}
		if len(past) >= window {
			then := past[len(past)-window]
			for i, p := range pacers {
				p.set(factor * max(sustainable[i], float64(now[i]-then[i])/window))
			}
			past = past[1:]
		}
		past = append(past, now)
	}
}

// progress logs the phase and seer's memory, as the kernel and as the Go
// runtime see it, every second until ctx ends.
func progress(ctx context.Context, log *slog.Logger, pid int, api string, phase *atomic.Pointer[string]) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		m, _ := readMemory(pid)
		args := []any{"phase", *phase.Load(), "rss_mib", m.rss >> 20, "hwm_mib", m.hwm >> 20, "anon_mib", m.anon >> 20, "file_mib", m.file >> 20}
		for _, f := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_next_gc_bytes", "seer_memory_queued_bytes"} {
			if v, err := scrapeCounters(api, f, ""); err == nil {
				args = append(args, strings.TrimPrefix(strings.TrimSuffix(f, "_bytes"), "go_memstats_")+"_mib", int64(v[""])>>20)
			}
		}
		log.Info("progress", args...)
	}
}

func cpuOf(pid int) float64 {
	s, _ := cpuSeconds(pid)
	return s
}

// prober sends small OTLP/HTTP metrics requests, one at a time, and times
// them: the latency a well-behaved client sees.
type prober struct {
	client *http.Client
	url    string
	seq    int
}

func newProber(otlpHTTP string) *prober {
	return &prober{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}},
		url: otlpHTTP + "/v1/metrics"}
}

func (p *prober) close() { p.client.CloseIdleConnections() }

// once sends one request of 100 points stamped now; ok is a 2xx answer.
func (p *prober) once(ctx context.Context) (time.Duration, bool) {
	p.seq++
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "probe")
	g := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("probe_value")
	dps := g.SetEmptyGauge().DataPoints()
	now := pcommon.NewTimestampFromTime(time.Now())
	for i := range 100 {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(now)
		dp.SetDoubleValue(float64(p.seq % 10))
		dp.Attributes().PutStr("slot", fmt.Sprint(i))
	}
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, false
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode/100 == 2
}

type probeResult struct {
	lat    []time.Duration // of the 2xx answers
	failed int
}

// run probes every interval for d or until ctx ends.
func (p *prober) run(ctx context.Context, d, every time.Duration) probeResult {
	var r probeResult
	end := time.Now().Add(d)
	t := time.NewTicker(every)
	defer t.Stop()
	for time.Now().Before(end) && ctx.Err() == nil {
		lat, ok := p.once(ctx)
		switch {
		case ok:
			r.lat = append(r.lat, lat)
		case ctx.Err() == nil:
			r.failed++
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return r
}

// recovery probes every 50 ms in windows of a second from since, and
// returns when the first of three good windows in a row began: every probe
// of a good window is answered 2xx and their median is at most limit.
func (p *prober) recovery(ctx context.Context, limit, wait time.Duration, since time.Time) (bool, time.Duration) {
	var first time.Time
	good := 0
	for time.Since(since) < wait && ctx.Err() == nil {
		winStart := time.Now()
		r := p.run(ctx, time.Second, 50*time.Millisecond)
		if r.failed == 0 && len(r.lat) > 0 && median(r.lat) <= limit {
			if good == 0 {
				first = winStart
			}
			good++
			if good == 3 {
				return true, first.Sub(since)
			}
			continue
		}
		good = 0
	}
	return false, time.Since(since)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

func total(m map[string]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

// si writes a rate as 1.23 M or 456 k.
func si(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2f M", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.0f k", x/1e3)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }
