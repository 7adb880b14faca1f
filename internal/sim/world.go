package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Behaviour of the healthy shop.
const (
	// baseErrorRate is the chance that any service fails a request on its own.
	baseErrorRate = 0.002
	// seasonPeriod and seasonAmp shape the slow swing of the traffic.
	seasonPeriod = 6 * 3600.0
	seasonAmp    = 0.15
	// consumers is how many messages notification handles at once.
	consumers = 2
	// maxDeliveries is how often a message is tried before it is dead-lettered.
	maxDeliveries = 3
	// maxQueue is the broker's max-length policy on the orders queue.
	maxQueue = 100_000
	// oomDown is how long an OOM-killed service stays down.
	oomDown = int64(15 * time.Second)
	// slowMs is the own time above which a service logs a slow request.
	slowMs = 200
)

// effect is what the active faults do to one service during a step.
type effect struct {
	down    bool
	crash   bool
	cpu     bool
	addMs   float64 // added own time
	errP    float64 // chance of failing a request
	mult    float64 // factor on own time
	leakMin float64 // minutes to OOM, 0 = no leak
}

// svcState is what changes about a service from step to step.
type svcState struct {
	down      bool
	reason    string // why it is down: "Error" or "OOMKilled"
	oomUntil  int64
	leaking   bool
	leakStart int64
	level     float64 // memory level under the GC sawtooth
	sawPhase  float64
}

// acc gathers one service's requests of the current metric interval.
type acc struct {
	lat     []float64 // ms
	n, errs int
}

// pendingSpan waits for its trace to complete.
type pendingSpan struct {
	release int64
	span    signal.Span
}

// msg is one order notification waiting in the queue.
type msg struct {
	t        int64
	id       uint64
	attempts uint8
}

// World is the simulated shop: eleven services, their traffic, the faults
// injected and the telemetry they produce. It is safe for concurrent use.
type World struct {
	mu  sync.Mutex
	cfg Config
	rng *rand.Rand

	start, now, step, interval int64 // unix ns and ns

	svcs      []service
	index     map[string]int
	edges     []edge
	endpoints []endpoint
	cum       []float64 // cumulative endpoint weights

	faults []fault
	truth  []Truth
	eff    []effect
	state  []svcState
	acc    []acc

	pendSpans []pendingSpan
	pendLogs  []signal.LogRecord
	events    []signal.Event

	queue    []msg // FIFO from qhead
	qhead    int
	workers  []int64 // when each consumer is free
	msgID    uint64
	maxQueue int

	spans  []signal.Span // the current trace
	starts []int64
	buf    []byte
}

// NewShop builds the shop world at cfg.Start.
func NewShop(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &World{
		cfg:       cfg,
		rng:       rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		start:     cfg.Start.UnixNano(),
		step:      int64(cfg.Step),
		interval:  int64(cfg.MetricInterval),
		svcs:      shopServices(),
		index:     make(map[string]int),
		edges:     shopEdges(),
		endpoints: shopEndpoints(),
		workers:   make([]int64, consumers),
		maxQueue:  maxQueue,
	}
	w.now = w.start
	for i, s := range w.svcs {
		w.index[s.name] = i
	}
	total := 0.0
	for _, ep := range w.endpoints {
		total += ep.weight
		w.cum = append(w.cum, total)
		w.collectOps(ep.root)
	}
	for i := range w.cum {
		w.cum[i] /= total
	}
	w.svcs[svcNotification].ops = append(w.svcs[svcNotification].ops, consumeOp)
	w.eff = make([]effect, len(w.svcs))
	w.state = make([]svcState, len(w.svcs))
	w.acc = make([]acc, len(w.svcs))
	for i := range w.state {
		w.state[i].level = w.svcs[i].memBase
		w.state[i].sawPhase = w.rng.Float64() * w.svcs[i].sawPeriod
	}
	return w, nil
}

func (w *World) collectOps(n *node) {
	s := &w.svcs[n.svc]
	if !slices.Contains(s.ops, n.op) {
		s.ops = append(s.ops, n.op)
	}
	for _, c := range n.calls {
		w.collectOps(c)
	}
}

// Now is the simulated time: the start of the next step.
func (w *World) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return ts(w.now)
}

// Services lists the shop's services, callers before callees.
func (w *World) Services() []string {
	out := make([]string, len(w.svcs))
	for i, s := range w.svcs {
		out[i] = s.name
	}
	return out
}

// Edges is the declared call graph, caller → callee.
func (w *World) Edges() [][2]string {
	out := make([][2]string, len(w.edges))
	for i, e := range w.edges {
		out[i] = [2]string{w.svcs[e.caller].name, w.svcs[e.callee].name}
	}
	return out
}

// Targets lists the services a fault may target: all but the front end,
// which stands for the users' side of the shop.
func (w *World) Targets() []string {
	return w.Services()[1:]
}

// Inject schedules a fault; it is rejected, naming what to fix, when its
// kind, target, start, duration or magnitude is not valid.
func (w *World) Inject(f Fault) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	rf, err := w.resolve(f)
	if err != nil {
		return err
	}
	w.faults = append(w.faults, rf)
	t := Truth{Kind: rf.kind, Target: w.svcs[rf.target].name, Start: ts(rf.start), Affected: w.affected(rf.target)}
	if rf.end != 0 {
		t.End = ts(rf.end)
	}
	w.truth = append(w.truth, t)
	return nil
}

// Truth is the ground truth of every fault injected so far, in order.
func (w *World) Truth() []Truth {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Truth, len(w.truth))
	for i, t := range w.truth {
		t.Affected = slices.Clone(t.Affected)
		out[i] = t
	}
	return out
}

// Step advances the world by cfg.Step and returns what it produced in that
// time: metrics at scrape times, the spans of traces that completed, the log
// lines written and the events, each stamped with simulated time.
func (w *World) Step() signal.Batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	t0, t1 := w.now, w.now+w.step
	w.applyFaults(t0)
	w.traffic(t0, t1)
	w.consume(t0, t1)
	w.routine(t0, t1)
	var b signal.Batch
	if (t1-w.start)%w.interval == 0 {
		b.Samples = w.metrics(t1)
	}
	b.Spans, b.Logs = w.flush(t1)
	if len(w.events) > 0 {
		b.Events = w.events
		w.events = nil
	}
	w.now = t1
	return b
}

// applyFaults works out the effects of the faults active at t and the
// transitions they cause: crashes, OOM kills, restarts.
func (w *World) applyFaults(t int64) {
	for i := range w.eff {
		w.eff[i] = effect{mult: 1}
	}
	for i := range w.faults {
		f := &w.faults[i]
		if !f.active(t) {
			continue
		}
		e := &w.eff[f.target]
		switch f.kind {
		case FaultLatency:
			e.addMs += f.mag
		case FaultErrors:
			e.errP = 1 - (1-e.errP)*(1-f.mag)
		case FaultCrash:
			e.crash = true
		case FaultCPU:
			e.cpu = true
			e.mult *= f.mag
		case FaultLeak:
			if e.leakMin == 0 || f.mag < e.leakMin {
				e.leakMin = f.mag
			}
		}
	}
	for i := range w.svcs {
		s, st, e := &w.svcs[i], &w.state[i], &w.eff[i]
		switch {
		case e.leakMin > 0:
			if !st.leaking {
				st.leaking, st.leakStart = true, t
			}
			if t >= st.oomUntil && !e.crash {
				st.level = s.memBase + (1-s.memBase)*float64(t-st.leakStart)/(e.leakMin*60e9)
				if st.level >= 1 {
					st.level = 1
					st.oomUntil = t + oomDown
					st.leakStart = st.oomUntil
					st.reason = "OOMKilled"
					w.logLines(i, t, signal.SeverityFatal, oomTemplates)
				}
			}
		case st.leaking:
			// The leak is fixed: the fix is rolled out, which restarts the service.
			st.leaking, st.level = false, s.memBase
			if !st.down {
				w.restart(i, t, "Rollout")
			}
		}
		down := e.crash || t < st.oomUntil
		if down && !st.down && e.crash && t >= st.oomUntil {
			st.reason = "Error"
			w.logLines(i, t, signal.SeverityFatal, panicTemplates)
		}
		if !down && st.down {
			st.level = s.memBase
			if st.leaking {
				st.leakStart = t
			}
			w.restart(i, t, st.reason)
		}
		st.down, e.down = down, down
		if st.leaking {
			// Near the limit the collector runs all the time and steals from requests.
			if x := (st.level - 0.8) / 0.2; x > 0 {
				e.mult *= 1 + 0.5*x*x
			}
		}
	}
}

// restart records service i coming back up at t.
func (w *World) restart(i int, t int64, reason string) {
	text := "container " + w.svcs[i].name + " restarted"
	switch reason {
	case "OOMKilled":
		text += " after OOMKilled"
	case "Error":
		text += " after exiting with an error"
	case "Rollout":
		text += " by a rollout"
	}
	w.events = append(w.events, signal.Event{
		Time: ts(t), Entity: w.svcs[i].name, Kind: signal.EventRestart, Text: text,
		Source: "sim", Attrs: map[string]string{"reason": reason},
	})
	w.logLines(i, t, signal.SeverityInfo, startupTemplates)
}

// traffic simulates the front-end requests that start within [t0, t1).
func (w *World) traffic(t0, t1 int64) {
	sec := float64(t0) / 1e9
	rate := w.cfg.RequestRate * (1 + seasonAmp*math.Sin(2*math.Pi*sec/seasonPeriod))
	n := w.poisson(rate * float64(t1-t0) / 1e9)
	w.starts = w.starts[:0]
	for range n {
		w.starts = append(w.starts, t0+int64(w.rng.Float64()*float64(t1-t0)))
	}
	slices.Sort(w.starts)
	for _, start := range w.starts {
		u := w.rng.Float64()
		ep := len(w.cum) - 1
		for i, c := range w.cum {
			if u < c {
				ep = i
				break
			}
		}
		var rc reqCtx
		if w.rng.Float64() < w.cfg.TraceSampling {
			rc.sampled = true
			rc.traceID = w.newID(32)
		}
		end, _ := w.visit(&rc, w.endpoints[ep].root, start, start+clientTimeout, "")
		for _, sp := range w.spans {
			w.pendSpans = append(w.pendSpans, pendingSpan{release: end, span: sp})
		}
		clear(w.spans)
		w.spans = w.spans[:0]
	}
}

// routine writes the lines a service writes whatever the traffic, and the
// warnings of the faults that build up over time.
func (w *World) routine(t0, t1 int64) {
	span := float64(t1 - t0)
	for i := range w.svcs {
		s, st, e := &w.svcs[i], &w.state[i], &w.eff[i]
		if st.down {
			continue
		}
		tmpls := infoTemplates[s.kind]
		for range w.poisson(w.cfg.LogRate * span / 1e9) {
			t := t0 + int64(w.rng.Float64()*span)
			w.logT(i, t, signal.SeverityInfo, tmpls[w.rng.IntN(len(tmpls))], "")
		}
		if e.cpu && w.rng.Float64() < 0.3 {
			w.logT(i, t0+int64(w.rng.Float64()*span), signal.SeverityWarn,
				"worker pool saturated: 64/64 busy, {n} requests queued", "")
		}
		if st.leaking && st.level > 0.85 && w.rng.Float64() < 0.3 {
			w.log(i, t0+int64(w.rng.Float64()*span), signal.SeverityWarn,
				fmt.Sprintf("GC overhead high: heap %d%% used after full GC, pause %.0fms", int(st.level*100), w.gcPause(i)), "")
		}
	}
}

// flush hands out the spans of completed traces and the log lines written
// before t, and keeps the rest for a later step.
func (w *World) flush(t int64) ([]signal.Span, []signal.LogRecord) {
	var spans []signal.Span
	keep := w.pendSpans[:0]
	for _, p := range w.pendSpans {
		if p.release < t {
			spans = append(spans, p.span)
		} else {
			keep = append(keep, p)
		}
	}
	clear(w.pendSpans[len(keep):])
	w.pendSpans = keep

	var logs []signal.LogRecord
	tt := ts(t)
	keepLogs := w.pendLogs[:0]
	for _, l := range w.pendLogs {
		if l.Time.Before(tt) {
			logs = append(logs, l)
		} else {
			keepLogs = append(keepLogs, l)
		}
	}
	clear(w.pendLogs[len(keepLogs):])
	w.pendLogs = keepLogs
	slices.SortStableFunc(logs, func(a, b signal.LogRecord) int { return a.Time.Compare(b.Time) })
	return spans, logs
}

// poisson draws a count of events with mean lambda.
func (w *World) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := math.Round(lambda + math.Sqrt(lambda)*w.rng.NormFloat64())
		return int(max(n, 0))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= w.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// newID is n random hex digits (32 for a trace, 16 for a span).
func (w *World) newID(n int) string {
	var b [32]byte
	out := b[:0]
	for n > 0 {
		d := min(n, 16)
		out = appendHex(out, w.rng.Uint64(), d)
		n -= d
	}
	return string(out)
}

// ts turns unix nanoseconds into a UTC time.
func ts(ns int64) time.Time { return time.Unix(0, ns).UTC() }
