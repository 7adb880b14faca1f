package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
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
	// errQ is the chance of failing a request for a reason other than an
	// errors fault (a bad deploy, a full disk), logged with one of errTmpls.
	errQ     float64
	errTmpls [][]string
	diskMin  float64 // minutes to a full disk, 0 = none
	poolMin  float64 // minutes to an exhausted pool, 0 = none
	lock     float64 // chance that a query waits on a lock
	surge    float64 // factor on the traffic of an entry
	regress  bool    // a bad deploy's regression is live
	// poolBlock is the chance that a call to a store finds no free connection.
	poolBlock float64
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
	// disk is the disk's fill level; diskStart when a fill began.
	disk, diskBase float64
	diskStart      int64
	// leaked is the connections lost from the pool; poolStart when the loss began.
	leaked    float64
	poolStart int64
	// instDown marks the replicas that are down on their own.
	instDown []bool
}

// acc gathers one service's requests of the current metric interval.
type acc struct {
	lat     []float64 // ms
	n, errs int
	// storeNs is the time spent in calls to stores, for the pool's use.
	storeNs int64
	// retrans and lockWaits count retransmissions and lock waits.
	retrans, lockWaits int
}

// iacc gathers one replica's requests of the current metric interval.
type iacc struct {
	lat     []float64
	n, errs int
}

// queue is one message queue and the state of its consumers.
type queue struct {
	svc, consumer int
	name, op      string
	node          *node // what the consumer does with a message
	msgs          []msg // FIFO from head
	head          int
	workers       []int64 // when each consumer is free
	max           int
}

// change is a scheduled change event that causes nothing.
type change struct {
	at int64
	ev signal.Event
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

// World is a simulated system: its services, their traffic, the faults
// injected and the telemetry they produce. It is safe for concurrent use.
type World struct {
	mu  sync.Mutex
	cfg Config
	rng *rand.Rand
	// legacy marks the demo's shop, whose signals must not change: no load
	// effects, no extra log templates.
	legacy bool
	name   string

	start, now, step, interval int64 // unix ns and ns

	svcs      []service
	index     map[string]int
	edges     []edge
	endpoints []endpoint
	cum       []float64 // cumulative endpoint weights
	entries   []int     // the services users call
	pooled    []bool    // the services with a pool to stores
	hostNames []string

	faults []fault
	truth  []Truth
	eff    []effect
	state  []svcState
	acc    []acc
	iacc   [][]iacc
	rr     []int     // round-robin counters of the load balancers
	rho    []float64 // each service's CPU load in the last interval
	net    map[[2]int]float64
	netOn  bool
	// lastStore is each service's time in stores over the last interval.
	lastStore   []float64
	anyInstDown bool
	instCPU     []hostLoad
	hostAgg     []float64

	changes []change
	// noise is the traffic's slow random factor, burstEnd and burstF the
	// current burst.
	noise    float64
	burstEnd int64
	burstF   float64

	pendSpans []pendingSpan
	pendLogs  []signal.LogRecord
	events    []signal.Event

	queues []*queue
	qOf    []*queue // the queue a service is, or nil
	msgID  uint64

	spans  []signal.Span // the current trace
	starts []int64
	buf    []byte
}

// NewShop builds the demo's eleven-service shop at cfg.Start.
func NewShop(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &World{legacy: true, name: "shop", svcs: shopServices(), edges: shopEdges(), endpoints: shopEndpoints()}
	w.queues = []*queue{{svc: svcQueue, consumer: svcNotification, name: "orders", op: consumeOp,
		node: &node{svc: svcNotification, op: consumeOp}}}
	w.init(cfg)
	w.svcs[svcNotification].ops = append(w.svcs[svcNotification].ops, consumeOp)
	return w, nil
}

// New builds a world of the given topology at cfg.Start.
func New(cfg Config, topo Topology) (*World, error) {
	if err := errors.Join(cfg.Validate(), topo.Validate()); err != nil {
		return nil, err
	}
	w := &World{name: topo.Name}
	w.svcs, w.edges, w.endpoints, w.queues = topo.compile()
	w.init(cfg)
	for _, q := range w.queues {
		w.collectOps(q.node)
	}
	return w, nil
}

// init sets up the dynamic state of a world whose static description is set.
func (w *World) init(cfg Config) {
	w.cfg = cfg
	w.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	w.start = cfg.Start.UnixNano()
	w.step = int64(cfg.Step)
	w.interval = int64(cfg.MetricInterval)
	w.index = make(map[string]int)
	w.now = w.start
	for i, s := range w.svcs {
		w.index[s.name] = i
	}
	total := 0.0
	for _, ep := range w.endpoints {
		total += ep.weight
		w.cum = append(w.cum, total)
		w.collectOps(ep.root)
		if !slices.Contains(w.entries, ep.root.svc) {
			w.entries = append(w.entries, ep.root.svc)
		}
	}
	for i := range w.cum {
		w.cum[i] /= total
	}
	w.qOf = make([]*queue, len(w.svcs))
	for _, q := range w.queues {
		q.workers = make([]int64, consumers)
		q.max = maxQueue
		w.qOf[q.svc] = q
	}
	w.pooled = make([]bool, len(w.svcs))
	for _, e := range w.edges {
		if k := w.svcs[e.callee].kind; !e.async && (k == kindDB || k == kindCache) {
			w.pooled[e.caller] = true
		}
	}
	w.eff = make([]effect, len(w.svcs))
	w.state = make([]svcState, len(w.svcs))
	w.acc = make([]acc, len(w.svcs))
	w.iacc = make([][]iacc, len(w.svcs))
	w.rr = make([]int, len(w.svcs))
	w.rho = make([]float64, len(w.svcs))
	w.lastStore = make([]float64, len(w.svcs))
	nh := 0
	for i := range w.state {
		w.state[i].level = w.svcs[i].memBase
		w.state[i].sawPhase = w.rng.Float64() * w.svcs[i].sawPeriod
		w.state[i].diskBase = 0.3 + 0.05*float64(i%7)
		w.state[i].disk = w.state[i].diskBase
		w.state[i].instDown = make([]bool, w.svcs[i].instances)
		w.iacc[i] = make([]iacc, w.svcs[i].instances)
		for _, h := range w.svcs[i].hosts {
			nh = max(nh, h+1)
		}
	}
	for h := range nh {
		w.hostNames = append(w.hostNames, "node-"+strconv.Itoa(h+1))
	}
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

// Name is the system's name: "shop" for NewShop, else the topology's.
func (w *World) Name() string { return w.name }

// Services lists the world's services, callers before callees in the shop.
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

// Targets lists the services a fault may target: all but the entry
// services, which stand for the users' side (a surge targets those).
func (w *World) Targets() []string {
	var out []string
	for i, s := range w.svcs {
		if !slices.Contains(w.entries, i) {
			out = append(out, s.name)
		}
	}
	return out
}

// Instances lists the replicas of a service, and the host of each.
func (w *World) Instances(service string) (instances, hosts []string) {
	i, ok := w.index[service]
	if !ok {
		return nil, nil
	}
	for j, h := range w.svcs[i].hosts {
		instances = append(instances, instanceName(service, j))
		hosts = append(hosts, w.hostNames[h])
	}
	return instances, hosts
}

// Kind is a service's kind: web, app, db, cache, queue or external.
func (w *World) Kind(service string) string {
	i, ok := w.index[service]
	if !ok {
		return ""
	}
	return kindNames[w.svcs[i].kind]
}

// Change schedules a change event that causes nothing, the noise among
// which a diagnosis must find the change that matters.
func (w *World) Change(ev signal.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	if !ev.Kind.Valid() {
		errs = append(errs, fmt.Errorf("sim: change kind %q is not a known event kind", ev.Kind))
	}
	if _, ok := w.index[ev.Entity]; !ok {
		errs = append(errs, fmt.Errorf("%w %q for a change", ErrUnknownTarget, ev.Entity))
	}
	at := w.now
	if !ev.Time.IsZero() {
		at = ev.Time.UnixNano()
	}
	if at < w.now {
		errs = append(errs, fmt.Errorf("sim: change at %s is before the world's time", ev.Time.UTC().Format(time.RFC3339)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ev.Time = ts(at)
	if ev.Source == "" {
		ev.Source = "sim"
	}
	w.changes = append(w.changes, change{at: at, ev: ev})
	return nil
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
	t := Truth{Kind: rf.kind, Target: w.svcs[rf.target].name, Start: ts(rf.start), Effect: ts(rf.effect()),
		Affected: w.truthAffected(&rf), Instance: f.Instance}
	if rf.peer >= 0 {
		t.Peer = w.svcs[rf.peer].name
	}
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
	w.announce(t0)
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
	if w.netOn {
		clear(w.net)
		w.netOn = false
	}
	crashed := false // some replica is crashed on its own
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
			if f.inst >= 0 {
				crashed = true
			} else {
				e.crash = true
			}
		case FaultCPU:
			e.cpu = true
			e.mult *= f.mag
		case FaultLeak:
			if e.leakMin == 0 || f.mag < e.leakMin {
				e.leakMin = f.mag
			}
		case FaultDisk:
			if e.diskMin == 0 || f.mag < e.diskMin {
				e.diskMin = f.mag
			}
		case FaultNetLoss, FaultPartition:
			if w.net == nil {
				w.net = make(map[[2]int]float64)
			}
			for _, k := range [][2]int{{f.target, f.peer}, {f.peer, f.target}} {
				w.net[k] = max(w.net[k], f.mag)
			}
			w.netOn = true
		case FaultSlowQuery:
			e.mult *= f.mag
			e.lock = max(e.lock, 0.3)
			w.failOther(e, 0.02, lockTemplates)
		case FaultPool:
			if e.poolMin == 0 || f.mag < e.poolMin {
				e.poolMin = f.mag
			}
		case FaultSurge:
			e.surge = max(e.surge, 1) * f.mag
		case FaultDeploy:
			if t >= f.start+deployLag {
				e.mult *= 1.6
				e.regress = true
				w.failOther(e, f.mag, deployTemplates)
			}
		case FaultConfig:
			if t >= f.start+configLag {
				w.failOther(e, f.mag, configTemplates)
			}
		case FaultExternal:
			e.addMs += 600
			w.failOther(e, f.mag, nil)
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
		w.resources(i, t)
	}
	if crashed || w.anyInstDown {
		w.instances(t)
	}
}

// failOther adds a chance p of failing a request, logged with one of tmpls
// (nil: the kind's own exception).
func (w *World) failOther(e *effect, p float64, tmpls [][]string) {
	e.errQ = 1 - (1-e.errQ)*(1-p)
	if tmpls != nil {
		e.errTmpls = tmpls
	} else if e.errTmpls == nil {
		e.errTmpls = externalTemplates
	}
}

// resources applies what fills up over time, the disk and the connection
// pool, and the slow-down of a loaded CPU, to service i at t.
func (w *World) resources(i int, t int64) {
	s, st, e := &w.svcs[i], &w.state[i], &w.eff[i]
	switch {
	case e.diskMin > 0:
		if st.diskStart == 0 {
			st.diskStart = t
		}
		st.disk = min(1, st.diskBase+(1-st.diskBase)*float64(t-st.diskStart)/(e.diskMin*60e9))
		if st.disk >= 0.98 {
			w.failOther(e, 0.35, diskTemplates)
		}
		if st.disk > 0.9 && (t-w.start)%int64(30*time.Second) < w.step {
			w.log(i, t, signal.SeverityWarn, "disk usage on /var/lib/"+s.name+" at "+strconv.Itoa(int(st.disk*100))+"%, "+strconv.Itoa(int((1-st.disk)*20480))+"MB free", "")
		}
	case st.diskStart != 0:
		// The volume is cleaned up or grown.
		st.diskStart, st.disk = 0, st.diskBase
	}
	switch {
	case e.poolMin > 0:
		if st.poolStart == 0 {
			st.poolStart = t
		}
		st.leaked = float64(s.pool) * min(1, float64(t-st.poolStart)/(e.poolMin*60e9))
	case st.poolStart != 0:
		st.poolStart, st.leaked = 0, 0
	}
	if w.pooled[i] {
		avail := float64(s.pool) - st.leaked
		use := w.poolUse(i)
		if avail < use+1 {
			e.poolBlock = clamp(1-avail/(use+1), 0, 1)
		}
	}
	// A CPU past 75 % makes requests queue for it.
	if x := (w.rho[i] - 0.75) / 0.25; x > 0 && !w.legacy {
		e.mult *= 1 + 4*min(x, 2)*min(x, 2)
	}
}

// poolUse is the mean number of service i's pooled connections in use over
// the last interval, by Little's law.
func (w *World) poolUse(i int) float64 {
	return w.lastStore[i] / float64(w.interval)
}

// instances marks the replicas that are crashed on their own at t, and
// records them going down and coming back.
func (w *World) instances(t int64) {
	w.anyInstDown = false
	for i := range w.svcs {
		st := &w.state[i]
		for j := range st.instDown {
			down := false
			for k := range w.faults {
				f := &w.faults[k]
				if f.kind == FaultCrash && f.target == i && f.inst == j && f.active(t) {
					down = true
				}
			}
			switch {
			case down && !st.instDown[j]:
				w.logLines(i, t, signal.SeverityFatal, panicTemplates)
			case !down && st.instDown[j]:
				w.events = append(w.events, signal.Event{
					Time: ts(t), Entity: w.svcs[i].name, Kind: signal.EventRestart,
					Text:   "container " + instanceName(w.svcs[i].name, j) + " restarted after exiting with an error",
					Source: "sim", Attrs: map[string]string{"reason": "Error", "instance": instanceName(w.svcs[i].name, j)},
				})
				w.logLines(i, t, signal.SeverityInfo, startupTemplates)
			}
			st.instDown[j] = down
			w.anyInstDown = w.anyInstDown || down
		}
	}
}

// announce writes the change events due before the end of the step at t:
// the scheduled ones and those of deploy and config faults.
func (w *World) announce(t int64) {
	t1 := t + w.step
	for i := range w.faults {
		f := &w.faults[i]
		if f.announced || f.start >= t1 || (f.kind != FaultDeploy && f.kind != FaultConfig) {
			continue
		}
		f.announced = true
		name := w.svcs[f.target].name
		ev := signal.Event{Time: ts(f.start), Entity: name, Source: "sim"}
		if f.kind == FaultDeploy {
			ev.Kind, ev.Text = signal.EventDeploy, "deployed "+name+" version 2.5.0 (was 2.4.1)"
			ev.Attrs = map[string]string{"version": "2.5.0", "previous": "2.4.1"}
		} else {
			ev.Kind, ev.Text = signal.EventConfig, "config change on "+name+": feature.new_pricing=true, upstream.timeout_ms=50"
		}
		w.events = append(w.events, ev)
	}
	if len(w.changes) == 0 {
		return
	}
	keep := w.changes[:0]
	for _, c := range w.changes {
		if c.at < t1 {
			w.events = append(w.events, c.ev)
		} else {
			keep = append(keep, c)
		}
	}
	w.changes = keep
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
	rate := w.rate(t0)
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
		root := w.endpoints[ep].root
		end, _ := w.visit(&rc, root, start, start+clientTimeout, "", w.pickUp(root.svc))
		for _, sp := range w.spans {
			w.pendSpans = append(w.pendSpans, pendingSpan{release: end, span: sp})
		}
		clear(w.spans)
		w.spans = w.spans[:0]
	}
}

// rate is the request rate at the entries at t, per second.
func (w *World) rate(t0 int64) float64 {
	sec := float64(t0) / 1e9
	tr := w.cfg.Traffic
	var rate float64
	if tr == (Traffic{}) {
		rate = w.cfg.RequestRate * (1 + seasonAmp*math.Sin(2*math.Pi*sec/seasonPeriod))
	} else {
		// Busiest mid-afternoon, quietest before dawn; weekends are quieter.
		day := math.Mod(sec, 86400) / 86400
		rate = w.cfg.RequestRate * (1 + tr.Daily*math.Sin(2*math.Pi*(day-0.375)))
		if wd := ts(t0).Weekday(); wd == time.Saturday || wd == time.Sunday {
			rate *= 1 - tr.Weekly
		}
		if tr.Noise > 0 {
			// A slow random walk pulled back to zero: minutes-long wander.
			w.noise = 0.98*w.noise + tr.Noise*0.2*w.rng.NormFloat64()
			rate *= math.Exp(w.noise)
		}
		if tr.Bursts > 0 {
			if t0 >= w.burstEnd && w.rng.Float64() < tr.Bursts*float64(w.step)/3600e9 {
				w.burstEnd = t0 + int64((30+w.rng.Float64()*150)*1e9)
				w.burstF = 1 + tr.BurstSize*(0.5+w.rng.Float64())
			}
			if t0 < w.burstEnd {
				rate *= w.burstF
			}
		}
	}
	for _, e := range w.entries {
		if f := w.eff[e].surge; f > 1 {
			rate *= f
			break
		}
	}
	return rate
}

// pickUp is the replica of entry service i that the load balancer, which
// checks health, sends the next request to.
func (w *World) pickUp(i int) int {
	j := w.pick(i)
	for k := 0; k < len(w.state[i].instDown) && w.state[i].instDown[j]; k++ {
		j = w.pick(i)
	}
	return j
}

// routine writes the lines a service writes whatever the traffic, and the
// warnings of the faults that build up over time.
func (w *World) routine(t0, t1 int64) {
	span := float64(t1 - t0)
	for i := range w.svcs {
		s, st, e := &w.svcs[i], &w.state[i], &w.eff[i]
		if st.down || s.kind == kindExternal {
			continue
		}
		tmpls := infoTemplates[s.kind]
		extra := extraInfoTemplates[s.kind]
		if w.legacy {
			extra = nil
		}
		for range w.poisson(w.cfg.LogRate * span / 1e9) {
			t := t0 + int64(w.rng.Float64()*span)
			if j := w.rng.IntN(len(tmpls) + len(extra)); j < len(tmpls) {
				w.logT(i, t, signal.SeverityInfo, tmpls[j], "")
			} else {
				w.logT(i, t, signal.SeverityInfo, extra[j-len(tmpls)], "")
			}
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
