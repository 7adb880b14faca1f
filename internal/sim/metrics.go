package sim

import (
	"math"
	"slices"

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
		if i == svcQueue {
			add(i, "queue_depth", float64(len(w.queue)-w.qhead))
		}
		w.reset(a)
	}
	return out
}

func (w *World) reset(a *acc) {
	a.lat = a.lat[:0]
	a.n, a.errs = 0, 0
}

// memory is the level plus the GC sawtooth, which narrows as the heap fills.
func (w *World) memory(i int, t int64) float64 {
	s, st := &w.svcs[i], &w.state[i]
	phase := math.Mod(float64(t)/1e9+st.sawPhase, s.sawPeriod) / s.sawPeriod
	room := (1 - st.level) / (1 - s.memBase)
	m := st.level + 0.06*phase*room + 0.004*w.rng.NormFloat64()
	if i == svcQueue {
		m += 0.4 * min(float64(len(w.queue)-w.qhead)/50000, 1)
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
