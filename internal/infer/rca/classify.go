package rca

import (
	"sort"
	"strings"

	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// The kinds of cause Rank tells apart.
const (
	KindLatency     = "latency"
	KindErrors      = "errors"
	KindUnavailable = "unavailable"
	KindSaturation  = "saturation"
	KindMemory      = "memory"
	KindDisk        = "disk"
	KindNetwork     = "network"
	KindChange      = "change"
	KindLoad        = "load"
)

// role says how a clue takes part in the analysis.
type role int

const (
	// roleFault is a symptom of the entity itself: it counts for the
	// entity's onset and propagates from callee to caller.
	roleFault role = iota
	// roleTraffic is a change of request rate: it propagates from caller to
	// callee, so it explains the callees, not the callers.
	roleTraffic
	// roleNamed is another service's log naming the entity as failing.
	roleNamed
)

// clue is what one observation says about one entity.
type clue struct {
	entity string
	kind   string
	// weight is how well the pattern localises a fault in the entity, in
	// [0,1]; it is multiplied by the observation's score.
	weight float64
	role   role
	obs    *signal.Observation
	// via is the entity whose log named this one (roleNamed only).
	via string
}

func (c clue) strength() float64 { return c.weight * clamp01(c.obs.Score) }

// victimPhrases mark a log line written by a service about a call that
// failed: it tells that a callee failed, not that the writer did.
var victimPhrases = []string{
	"timeout", "timed out", "refused", "unreachable", "calling", "connect",
	"upstream", "deadline", "reset by peer", "no route", "unavailable",
	"circuit", "dial", " 502", " 503", " 504",
}

// classify turns one observation into clues; names maps the lower-cased
// known services to their names, to find the service a victim's log blames.
func classify(o *signal.Observation, names map[string]string, table *semconv.Table) []clue {
	self := Service(o.Entity)
	if self == "" {
		return nil
	}
	c := func(kind string, w float64, r role) []clue {
		return []clue{{entity: self, kind: kind, weight: w, role: r, obs: o}}
	}
	switch o.Kind {
	case signal.TraceLatency:
		return c(KindLatency, 1, roleFault)
	case signal.TraceErrors:
		return c(KindErrors, 1, roleFault)
	case signal.TraceUnreachable:
		return c(KindUnavailable, 1, roleFault)
	case signal.TraceTimeout:
		return c(KindLatency, 0.6, roleFault)
	case signal.TraceStructure:
		return c(KindErrors, 0.4, roleFault)
	case signal.MetricForecast:
		switch table.Of(o.Name, nil).Quantity {
		case semconv.Disk:
			return c(KindDisk, 0.9, roleFault)
		case semconv.Memory, semconv.GC:
			return c(KindMemory, 0.9, roleFault)
		}
		return c(KindSaturation, 0.7, roleFault)
	case signal.MetricAnomaly:
		kind, w, r := metricClue(table.Of(o.Name, nil), o.Direction())
		if w == 0 {
			return nil
		}
		return c(kind, w, r)
	case signal.LogNewTemplate, signal.LogRare, signal.LogBurst, signal.LogErrorBurst, signal.LogSilence:
		return logClues(o, self, names)
	case signal.Alarm:
		return c("", 0.3, roleFault)
	}
	// Changes are read by changes(); unknown kinds are weak symptoms.
	if o.Kind == signal.Change {
		return nil
	}
	return c("", 0.2, roleFault)
}

// metricClue reads a metric anomaly by what the semantics table says the
// series measures and whether it moved in the direction that is bad; a zero
// weight means the anomaly says nothing about a fault (a recovery).
func metricClue(m semconv.Meaning, dir string) (string, float64, role) {
	bad := m.Bad == semconv.Either || (dir == "down") == (m.Bad == semconv.Fall)
	switch m.Quantity {
	case semconv.Up:
		if bad {
			return KindUnavailable, 1, roleFault
		}
		return "", 0, roleFault
	case semconv.CPU:
		if bad {
			return KindSaturation, 0.85, roleFault
		}
		return KindUnavailable, 0.15, roleFault
	case semconv.GC:
		if bad {
			return KindMemory, 0.7, roleFault
		}
		return "", 0, roleFault
	case semconv.Memory:
		if bad {
			return KindMemory, 0.85, roleFault
		}
		return KindUnavailable, 0.15, roleFault
	case semconv.Disk:
		if bad {
			return KindDisk, 0.85, roleFault
		}
		return "", 0, roleFault
	case semconv.Retransmits:
		// Lost packets show at the end of the link that is at fault.
		if bad {
			return KindNetwork, 0.85, roleFault
		}
		return "", 0, roleFault
	case semconv.RequestRate:
		if dir != "down" {
			return KindLoad, 0.5, roleTraffic
		}
		return KindUnavailable, 0.3, roleTraffic
	case semconv.SuccessRatio:
		if bad {
			return KindErrors, 0.6, roleFault
		}
		return "", 0, roleFault
	case semconv.ErrorRatio, semconv.ErrorCount, semconv.ErrorOrigin:
		if bad {
			return KindErrors, 0.5, roleFault
		}
		return "", 0, roleFault
	case semconv.Latency, semconv.SelfTime, semconv.NetDelay:
		if bad {
			return KindLatency, 0.45, roleFault
		}
		return "", 0, roleFault
	case semconv.Pool, semconv.FileDesc:
		if bad {
			return KindSaturation, 0.45, roleFault
		}
		return "", 0, roleFault
	}
	return "", 0.3, roleFault
}

// logClues credits a log pattern to the service that wrote it, unless it is
// a victim's complaint about a call: then the writer gets little and the
// service the line names gets the rest.
func logClues(o *signal.Observation, self string, names map[string]string) []clue {
	text := logText(o)
	victim := false
	for _, p := range victimPhrases {
		if strings.Contains(text, p) {
			victim = true
			break
		}
	}
	kind, w := KindErrors, 0.35
	switch o.Kind {
	case signal.LogErrorBurst:
		w = 0.4
	case signal.LogRare, signal.LogBurst:
		w = 0.3
	case signal.LogSilence:
		kind = KindUnavailable
	}
	if !victim {
		return []clue{{entity: self, kind: kind, weight: w, role: roleFault, obs: o}}
	}
	out := []clue{{entity: self, kind: KindErrors, weight: 0.12, role: roleFault, obs: o}}
	named := KindErrors
	switch {
	case containsAny(text, "refused", "unreachable", "no route", "reset by peer", "dial", "connect"):
		named = KindUnavailable
	case containsAny(text, "timeout", "timed out", "deadline"):
		named = KindLatency
	}
	for _, tok := range tokens(text) {
		if name, ok := names[tok]; ok && name != self {
			out = append(out, clue{entity: name, kind: named, weight: 0.35, role: roleNamed, obs: o, via: self})
		}
	}
	return out
}

// logText is everything an observation says in words, lower-cased, in a
// fixed order.
func logText(o *signal.Observation) string {
	parts := []string{o.Summary, o.Name}
	keys := make([]string, 0, len(o.Evidence))
	for k := range o.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, o.Evidence[k])
	}
	return " " + strings.ToLower(strings.Join(parts, " ")) + " "
}

// tokens splits text into distinct words that could be service names.
func tokens(text string) []string {
	f := strings.FieldsFunc(text, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
	seen := make(map[string]bool, len(f))
	out := f[:0]
	for _, t := range f {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func clamp01(x float64) float64 {
	switch {
	case x > 1:
		return 1
	case x > 0:
		return x
	}
	return 0 // negative and NaN
}
