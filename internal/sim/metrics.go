package sim

import (
	"math"
	"slices"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// metrics scrapes every service at t and starts the next interval.
func (w *World) metrics(t int64) []signal.Sample {
	out := make([]signal.Sample, 0, len(w.svcs)*10)
	at := ts(t)
	secs := float64(w.interval) / 1e9
	add := func(si int, name string, v float64) {
		out = append(out, signal.Sample{Time: at, Entity: w.svcs[si].name, Name: name, Value: v})
	}
	for i := range w.svcs {
		s, st, e, a := &w.svcs[i], &w.state[i], &w.eff[i], &w.acc[i]
		w.lastStore[i] = float64(a.storeNs)
		w.rho[i] = s.selfMs / 1000 * float64(a.n) / secs / s.cores
		if s.kind == kindExternal {
			// Outside the system: nothing scrapes it.
			w.reset(a)
			continue
		}
		if st.down {
			// A scrape of a dead target yields nothing but the scraper's own
			// up = 0; the mesh sees no request reach it.
			add(i, "request_rate", 0)
			add(i, "up", 0)
			w.reset(a)
			continue
		}
		rate := float64(a.n) / secs
		add(i, "request_rate", rate)
		ratio := 0.0
		if a.n > 0 {
			ratio = float64(a.errs) / float64(a.n)
		}
		add(i, "error_ratio", ratio)
		if a.n > 0 {
			slices.Sort(a.lat)
			add(i, "latency_p50_ms", quantile(a.lat, 0.50))
			add(i, "latency_p95_ms", quantile(a.lat, 0.95))
			add(i, "latency_p99_ms", quantile(a.lat, 0.99))
		}
		// CPU follows the work done, not the time spent waiting.
		cpu := 0.04 + s.selfMs*1.08/1000*rate/s.cores + 0.015*w.rng.NormFloat64()
		if e.cpu {
			cpu = 0.94 + 0.02*w.rng.NormFloat64()
		}
		if x := (st.level - 0.8) / 0.2; st.leaking && x > 0 {
			cpu += 0.4 * x * x
		}
		add(i, "cpu_utilization", clamp(cpu, 0.01, 1))
		add(i, "memory_utilization", w.memory(i, t))
		add(i, "gc_pause_ms", w.gcPause(i))
		add(i, "up", 1)
		if q := w.qOf[i]; q != nil {
			add(i, "queue_depth", float64(q.depth()))
		}
		if w.cfg.Detail {
			out = w.detail(out, i, at, secs, cpu)
		}
		w.reset(a)
	}
	if w.cfg.Detail {
		out = w.hostMetrics(out, at)
	}
	for i := range w.iacc {
		for j := range w.iacc[i] {
			ia := &w.iacc[i][j]
			ia.lat, ia.n, ia.errs = ia.lat[:0], 0, 0
		}
	}
	return out
}

// detail appends service i's resource metrics and its replicas' metrics.
func (w *World) detail(out []signal.Sample, i int, at time.Time, secs, cpu float64) []signal.Sample {
	s, st, a := &w.svcs[i], &w.state[i], &w.acc[i]
	add := func(name string, v float64) {
		out = append(out, signal.Sample{Time: at, Entity: s.name, Name: name, Value: v})
	}
	disk := clamp(st.disk+0.002*w.rng.NormFloat64(), 0, 1)
	add("disk_utilization", disk)
	if w.pooled[i] {
		use := min(float64(s.pool), w.poolUse(i)+st.leaked)
		add("pool_in_use", math.Round(use))
		add("pool_utilization", use/float64(s.pool))
	}
	add("tcp_retransmits", float64(a.retrans)/secs)
	if s.kind == kindDB {
		add("lock_waits", float64(a.lockWaits)/secs)
	}
	mem := w.memory(i, at.UnixNano())
	for j := range w.iacc[i] {
		ia := &w.iacc[i][j]
		inst := instanceName(s.name, j)
		labels := map[string]string{"instance": inst, "host": w.hostNames[s.hosts[j]]}
		addI := func(name string, v float64) {
			out = append(out, signal.Sample{Time: at, Entity: s.name, Name: name, Labels: labels, Value: v})
		}
		if st.instDown[j] {
			addI("up", 0)
			w.instCPU = append(w.instCPU, hostLoad{s.hosts[j], 0.01, mem, disk})
			continue
		}
		addI("up", 1)
		rate := float64(ia.n) / secs
		addI("request_rate", rate)
		ratio := 0.0
		if ia.n > 0 {
			ratio = float64(ia.errs) / float64(ia.n)
			slices.Sort(ia.lat)
			addI("latency_p99_ms", quantile(ia.lat, 0.99))
		}
		addI("error_ratio", ratio)
		ic := clamp(cpu+0.02*w.rng.NormFloat64(), 0.01, 1)
		im := clamp(mem+0.01*w.rng.NormFloat64(), 0.01, 1)
		addI("cpu_utilization", ic)
		addI("memory_utilization", im)
		w.instCPU = append(w.instCPU, hostLoad{s.hosts[j], ic, im, disk})
	}
	return out
}

// hostLoad is one replica's share of its host.
type hostLoad struct {
	host           int
	cpu, mem, disk float64
}

// hostMetrics appends each host's CPU, memory and disk: the mean of its
// replicas' CPU and memory, the fullest of their disks.
func (w *World) hostMetrics(out []signal.Sample, at time.Time) []signal.Sample {
	n := len(w.hostNames)
	if cap(w.hostAgg) < 4*n {
		w.hostAgg = make([]float64, 4*n)
	}
	agg := w.hostAgg[:4*n]
	clear(agg)
	for _, l := range w.instCPU {
		agg[4*l.host] += l.cpu
		agg[4*l.host+1] += l.mem
		agg[4*l.host+2] = max(agg[4*l.host+2], l.disk)
		agg[4*l.host+3]++
	}
	w.instCPU = w.instCPU[:0]
	for h, name := range w.hostNames {
		k := agg[4*h+3]
		if k == 0 {
			continue
		}
		e := "host:" + name
		out = append(out,
			signal.Sample{Time: at, Entity: e, Name: "cpu_utilization", Value: agg[4*h] / k},
			signal.Sample{Time: at, Entity: e, Name: "memory_utilization", Value: agg[4*h+1] / k},
			signal.Sample{Time: at, Entity: e, Name: "disk_utilization", Value: agg[4*h+2]})
	}
	return out
}

func (w *World) reset(a *acc) {
	a.lat = a.lat[:0]
	a.n, a.errs, a.storeNs, a.retrans, a.lockWaits = 0, 0, 0, 0, 0
}

// memory is the level plus the GC sawtooth, which narrows as the heap fills.
func (w *World) memory(i int, t int64) float64 {
	s, st := &w.svcs[i], &w.state[i]
	phase := math.Mod(float64(t)/1e9+st.sawPhase, s.sawPeriod) / s.sawPeriod
	room := (1 - st.level) / (1 - s.memBase)
	m := st.level + 0.06*phase*room + 0.004*w.rng.NormFloat64()
	if q := w.qOf[i]; q != nil {
		m += 0.4 * min(float64(q.depth())/50000, 1)
	}
	return clamp(m, 0.01, 1)
}

// gcPause grows steeply as the heap fills.
func (w *World) gcPause(i int) float64 {
	s, st := &w.svcs[i], &w.state[i]
	return s.gcMs * math.Exp(0.3*w.rng.NormFloat64()) * math.Exp(5*max(0, st.level-s.memBase))
}

// quantile is the nearest-rank quantile of sorted xs.
func quantile(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(v, hi)) }
