// Package host runs seer against the real monitoring stack of the machine
// it runs on, as a user starts it: Debian's Prometheus scraping its
// node_exporter and remote-writing into seer, Alertmanager sending its
// webhook to seer, all on 127.0.0.1. After a healthy period it makes real
// faults (a CPU hog, a file system filling, a memory hog, a set of alerts
// on a declared call graph) and checks what seer said of each.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seerops/seer/internal/api"
	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/loopback"
	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// Config says how long each phase lasts.
type Config struct {
	// Healthy is the period before the faults, measured for noise.
	Healthy time.Duration
	// Scrape is Prometheus's scrape interval.
	Scrape time.Duration
	// Fault is how long each fault lasts; Within is how soon seer must
	// speak of it.
	Fault, Within time.Duration
	// Dir holds the run's files; empty: a temporary directory.
	Dir string
	Log *slog.Logger
}

// DefaultConfig is the full run: 30 healthy minutes at a 15 s scrape.
func DefaultConfig() Config {
	return Config{Healthy: 30 * time.Minute, Scrape: 15 * time.Second, Fault: 2 * time.Minute, Within: time.Minute}
}

// Check is one line of the report.
type Check struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Pass bool   `json:"pass"`
}

// Report is what a run found.
type Report struct {
	Checks []Check `json:"checks"`
}

// Binaries are the programs a run needs, by Debian package.
var Binaries = map[string]string{
	"prometheus":               "prometheus",
	"prometheus-node-exporter": "prometheus-node-exporter",
	"prometheus-alertmanager":  "prometheus-alertmanager",
	"stress-ng":                "stress-ng",
}

// ErrMissing is returned when a binary is not installed.
var ErrMissing = errors.New("not installed")

// Find returns the paths of the binaries, or ErrMissing naming the
// packages to install.
func Find() (map[string]string, error) {
	out := map[string]string{}
	var missing []string
	for bin, pkg := range Binaries {
		p, err := exec.LookPath(bin)
		if err != nil {
			missing = append(missing, pkg)
			continue
		}
		out[bin] = p
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("%w: apt-get install %s", ErrMissing, strings.Join(missing, " "))
	}
	return out, nil
}

// recorder keeps what seer said, as it said it.
type recorder struct {
	mu   sync.Mutex
	obs  []signal.Observation
	seen map[string]time.Time // wall time each observation arrived, by id
	inc  map[int64]signal.Incident
	at   map[int64]time.Time // wall time each incident was opened
}

func (r *recorder) observation(o signal.Observation) {
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *recorder) incident(in signal.Incident) {
	r.mu.Lock()
	if _, ok := r.at[in.ID]; !ok {
		r.at[in.ID] = time.Now()
	}
	r.inc[in.ID] = in
	r.mu.Unlock()
}

// since returns the observations and incidents that came after t.
func (r *recorder) since(t time.Time) ([]signal.Observation, []signal.Incident) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var obs []signal.Observation
	for _, o := range r.obs {
		if !o.Time.Before(t) {
			obs = append(obs, o)
		}
	}
	var ins []signal.Incident
	for id, in := range r.inc {
		if !r.at[id].Before(t) {
			ins = append(ins, in)
		}
	}
	slices.SortFunc(ins, func(a, b signal.Incident) int { return int(a.ID - b.ID) })
	return obs, ins
}

// Run runs the stack, the healthy period and the faults.
func Run(ctx context.Context, cfg Config) (Report, error) {
	var rep Report
	bins, err := Find()
	if err != nil {
		return rep, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "seer-eval-host-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	addrs, err := loopback.FreeAddrs(5)
	if err != nil {
		return rep, err
	}
	seerAddr, nodeAddr, promAddr, amAddr, amCluster := addrs[0], addrs[1], addrs[2], addrs[3], addrs[4]

	// seer, in this process, as seer run starts it.
	rec := &recorder{seen: map[string]time.Time{}, inc: map[int64]signal.Incident{}, at: map[int64]time.Time{}}
	ecfg := engine.Default()
	ecfg.DataDir = filepath.Join(dir, "seer")
	ecfg.HTTPAddr = seerAddr
	ecfg.OTLP.GRPCAddr, ecfg.OTLP.HTTPAddr = "", ""
	ecfg.Notify.Alertmanager.URL = ""
	ecfg.Topology = signal.Topology{Edges: []signal.Edge{{Caller: "checkout", Callee: "payment"}, {Caller: "payment", Callee: "postgres"}}}
	// start starts seer on the data directory; stop stops it as a
	// shutdown does (its learned state saved). A restart is both.
	var (
		e       *engine.Engine
		runStop context.CancelFunc
		runDone chan error
	)
	start := func() error {
		var err error
		if e, err = engine.New(ctx, ecfg, log, engine.Hooks{Observation: rec.observation, Incident: rec.incident}); err != nil {
			return fmt.Errorf("starting seer: %w", err)
		}
		var runCtx context.Context
		runCtx, runStop = context.WithCancel(ctx)
		runDone = make(chan error, 1)
		go func() { runDone <- e.Run(runCtx) }()
		return nil
	}
	stop := func() {
		runStop()
		<-runDone
		e.Close()
	}
	if err := start(); err != nil {
		return rep, err
	}
	defer func() { stop() }()

	// The fill file system: a tmpfs of 256 MB where the user may mount,
	// else a directory of the disk (the check then says so).
	fill := filepath.Join(dir, "fill")
	if err := os.MkdirAll(fill, 0o755); err != nil {
		return rep, err
	}
	mounted := syscall.Mount("tmpfs", fill, "tmpfs", 0, "size=256m") == nil
	if mounted {
		defer syscall.Unmount(fill, syscall.MNT_DETACH)
	}

	// The monitoring stack, as Debian installs it.
	stack := &procs{dir: dir}
	defer stack.stop()
	if err := stack.start(ctx, "node_exporter", bins["prometheus-node-exporter"], "http://"+nodeAddr+"/metrics",
		"--web.listen-address="+nodeAddr, "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run)($|/)"); err != nil {
		return rep, err
	}
	amConf := fmt.Sprintf(`route:
  receiver: seer
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: seer
    webhook_configs:
      - url: http://%s/api/v1/alerts/alertmanager
        send_resolved: true
`, seerAddr)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(amConf), 0o644); err != nil {
		return rep, err
	}
	if err := stack.start(ctx, "alertmanager", bins["prometheus-alertmanager"], "http://"+amAddr+"/-/ready",
		"--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address="+amCluster); err != nil {
		return rep, err
	}
	rules := `groups:
  - name: heartbeat
    rules:
      - alert: Watchdog
        expr: vector(1)
        labels: {severity: none}
`
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
		return rep, err
	}
	promConf := fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: %s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://%s/api/v1/write
    queue_config:
      batch_send_deadline: 1s
`, cfg.Scrape, cfg.Scrape, filepath.Join(dir, "rules.yml"), amAddr, nodeAddr, seerAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promConf), 0o644); err != nil {
		return rep, err
	}
	if err := stack.start(ctx, "prometheus", bins["prometheus"], "http://"+promAddr+"/-/ready",
		"--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr); err != nil {
		return rep, err
	}

	// Healthy: the findings seer makes of an idle host.
	log.Info("healthy period", "for", cfg.Healthy)
	began := time.Now()
	// The detectors' warm-up is not measured: they are silent in it by design.
	warm := began.Add(time.Duration(engine.Default().Metric.WarmUp) * cfg.Scrape)
	if err := sleep(ctx, cfg.Healthy); err != nil {
		return rep, err
	}
	obs, ins := rec.since(warm)
	metricFindings := 0
	for _, o := range obs {
		if o.Kind.Source() == signal.SourceMetric {
			metricFindings++
		}
	}
	measured := time.Since(warm)
	per10 := float64(metricFindings) / measured.Minutes() * 10
	rep.add("healthy: metric findings per 10 min", "<= 1", fmt.Sprintf("%.2f (%d in %s)", per10, metricFindings, measured.Round(time.Second)), per10 <= 1)
	rep.add("healthy: incidents", "<= 1", fmt.Sprint(len(ins)), len(ins) <= 1)
	for _, o := range obs {
		log.Info("healthy finding", "summary", o.Summary, "entity", o.Entity)
	}

	// Each fault is judged on its own: what is open is closed first, as an
	// operator closes an incident that is over.
	closeAll := func() {
		ins, _ := e.Store().Incidents(ctx, knowledge.IncidentQuery{Status: signal.IncidentOpen})
		for _, in := range ins {
			e.Act(ctx, in.ID, api.Operation{Action: "resolve", By: "eval"})
		}
	}

	// A restart in the middle of the run, as an upgrade makes one: the
	// first fault after it must still be caught (warm restart).
	log.Info("restarting seer")
	stop()
	if err := start(); err != nil {
		return rep, fmt.Errorf("restarting: %w", err)
	}

	// CPU hog.
	closeAll()
	t := time.Now()
	hog := exec.CommandContext(ctx, bins["stress-ng"], "--cpu", fmt.Sprint(runtime.NumCPU()), "--timeout", fmt.Sprint(int(cfg.Fault.Seconds())))
	if err := hog.Start(); err != nil {
		return rep, fmt.Errorf("stress-ng: %w", err)
	}
	got := waitFor(ctx, rec, t, cfg.Within+cfg.Scrape, func(o signal.Observation) bool {
		m := semconv.Default.Of(o.Name, labelsOf(o))
		return o.Kind == signal.MetricAnomaly && m.Quantity == semconv.CPU && m.Host
	})
	hog.Wait()
	rep.add("cpu hog, first fault after a restart of seer: a finding on the host's CPU", "within "+cfg.Within.String(), describe(got, t), got != nil && got.Time.Sub(t) <= cfg.Within+cfg.Scrape)
	if err := sleep(ctx, cfg.Scrape*4); err != nil {
		return rep, err
	}

	// Disk fill: 3 MB/s into the tmpfs.
	closeAll()
	t = time.Now()
	fillCtx, stopFill := context.WithTimeout(ctx, cfg.Fault)
	go fillDisk(fillCtx, filepath.Join(fill, "blob"), 3<<20)
	got = waitFor(ctx, rec, t, cfg.Within+cfg.Scrape, func(o signal.Observation) bool {
		return o.Kind == signal.MetricForecast && o.Evidence["label.mountpoint"] == fill
	})
	stopFill()
	os.Remove(filepath.Join(fill, "blob"))
	rep.add("disk fill: a forecast naming the mount point", "within "+cfg.Within.String()+" (tmpfs mounted: "+fmt.Sprint(mounted)+")", describe(got, t), got != nil && got.Time.Sub(t) <= cfg.Within+cfg.Scrape)
	ins, _ = e.Store().Incidents(ctx, knowledge.IncidentQuery{Since: t})
	cause, nominated := "", ""
	for _, in := range ins {
		if len(in.Causes) > 0 && in.Causes[0].Kind == "disk" {
			cause = in.Causes[0].Entity + " " + in.Causes[0].Kind
			if in.Runbook != nil && in.Runbook.Mode != signal.ModeUnavailable {
				nominated = in.Runbook.Name
			}
		}
	}
	rep.add("disk fill: an incident caused by the disk", "disk", orNone(cause), cause != "")
	// The disk runbook trims the journal: nominated where systemd runs,
	// elsewhere another that fits (the diagnosis) or none.
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		rep.add("disk fill: the runbook nominated", "free-disk-space", orNone(nominated), nominated == "free-disk-space")
	} else {
		rep.add("disk fill: the runbook nominated", "not free-disk-space (no systemd here)", orNone(nominated), nominated != "free-disk-space")
	}
	if err := sleep(ctx, cfg.Scrape*4); err != nil {
		return rep, err
	}

	// Memory hog: a quarter of the memory, held; the host does not run out.
	closeAll()
	t = time.Now()
	mem := exec.CommandContext(ctx, bins["stress-ng"], "--vm", "1", "--vm-bytes", "25%", "--vm-keep", "--timeout", fmt.Sprint(int(cfg.Fault.Seconds())))
	if err := mem.Start(); err != nil {
		return rep, fmt.Errorf("stress-ng: %w", err)
	}
	mem.Wait()
	obs, _ = rec.since(t)
	var memForecast *signal.Observation
	for _, o := range obs {
		if o.Kind == signal.MetricForecast && semconv.Default.Of(o.Name, nil).Quantity == semconv.Memory {
			memForecast = &o
			break
		}
	}
	rep.add("memory hog of 25%: no exhaustion forecast", "none", describe(memForecast, t), memForecast == nil)

	// Alerts on the declared graph checkout → payment → postgres, through
	// the real Alertmanager: checkout's first.
	closeAll()
	t = time.Now()
	for _, a := range []string{
		`[{"labels":{"alertname":"HighLatency","service":"checkout","severity":"warning"}}]`,
		`[{"labels":{"alertname":"HighErrorRate","service":"payment","severity":"critical"}}]`,
	} {
		if err := post(ctx, "http://"+amAddr+"/api/v2/alerts", a); err != nil {
			return rep, fmt.Errorf("posting an alert to Alertmanager: %w", err)
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return rep, err
		}
	}
	first := ""
	deadline := time.Now().Add(cfg.Within)
	for time.Now().Before(deadline) && first != "payment" {
		_ = sleep(ctx, time.Second)
		// Any incident the alerts joined, new or one they reopened.
		ins, _ := e.Store().Incidents(ctx, knowledge.IncidentQuery{Since: t})
		for _, in := range ins {
			if slices.Contains(in.Entities, "payment") && len(in.Causes) > 0 {
				first = in.Causes[0].Entity
			}
		}
	}
	rep.add("alerts: first cause", "payment (never Watchdog)", orNone(first), first == "payment")
	evs, _ := e.Store().Events(ctx, knowledge.EventQuery{})
	watchdog := false
	for _, ev := range evs {
		watchdog = watchdog || ev.Attrs["alertname"] == "Watchdog"
	}
	rep.add("alerts: Watchdog kept as history", "stored", fmt.Sprint(watchdog), watchdog)
	return rep, nil
}

func (r *Report) add(name, want, got string, pass bool) {
	r.Checks = append(r.Checks, Check{Name: name, Want: want, Got: got, Pass: pass})
}

// Pass tells whether every check passed.
func (r Report) Pass() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func describe(o *signal.Observation, t time.Time) string {
	if o == nil {
		return "none"
	}
	return fmt.Sprintf("+%s %s", o.Time.Sub(t).Round(time.Second), o.Summary)
}

func labelsOf(o signal.Observation) map[string]string {
	out := map[string]string{}
	for k, v := range o.Evidence {
		if name, ok := strings.CutPrefix(k, "label."); ok {
			out[name] = v
		}
	}
	return out
}

// waitFor returns the first observation since t that ok accepts, waiting
// up to d.
func waitFor(ctx context.Context, rec *recorder, t time.Time, d time.Duration, ok func(signal.Observation) bool) *signal.Observation {
	deadline := time.Now().Add(d)
	for {
		obs, _ := rec.since(t)
		for _, o := range obs {
			if ok(o) {
				return &o
			}
		}
		if time.Now().After(deadline) || sleep(ctx, time.Second) != nil {
			return nil
		}
	}
}

func fillDisk(ctx context.Context, path string, perSecond int) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	buf := make([]byte, perSecond/10)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := f.Write(buf); err != nil {
				return
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func post(ctx context.Context, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}

// procs are the stack's processes.
type procs struct {
	dir  string
	cmds []*exec.Cmd
}

func (p *procs) start(ctx context.Context, name, bin, ready string, args ...string) error {
	logf, err := os.Create(filepath.Join(p.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p.cmds = append(p.cmds, cmd)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if sleep(ctx, 200*time.Millisecond) != nil {
			break
		}
	}
	b, _ := os.ReadFile(filepath.Join(p.dir, name+".log"))
	return fmt.Errorf("%s did not get ready at %s in 30s:\n%s", name, ready, tail(string(b), 2000))
}

func (p *procs) stop() {
	for i := len(p.cmds) - 1; i >= 0; i-- {
		c := p.cmds[i]
		c.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.Process.Kill()
			<-done
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// JSON is the report as `seer eval host --json` prints it.
func (r Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
