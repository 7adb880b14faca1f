package rules

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/seerops/seer/internal/signal"
)

// The origins of rules.
const (
	Mined  = "mined"
	Manual = "manual"
)

// Case is one past incident as mining reads it: its patterns, the kind of
// its confirmed root cause and the action that fixed it ("" if none).
type Case struct {
	Patterns []string
	Cause    string
	Action   string
}

// Patterns are the items an incident's observations present: each
// observation's kind, and "kind:name" with the name reduced to its
// family (digits and ids dropped), so that rules generalise across
// instances; change events add "change:KIND".
func Patterns(obs []signal.Observation) []string {
	set := map[string]bool{}
	for i := range obs {
		o := &obs[i]
		set[string(o.Kind)] = true
		if n := family(o.Name); n != "" {
			set[string(o.Kind)+":"+n] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// family lower-cases a name and drops the digits and punctuation that tell
// one instance of a pattern from another ("T12" and "T13" are both "t").
func family(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r == '_', r == '.':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '/':
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_.")
}

// Config bounds mining.
type Config struct {
	// MinSupport is the share of cases a rule's patterns and cause must
	// appear in together.
	MinSupport float64
	// MinConfidence is the share of the cases with the patterns whose cause
	// was the rule's.
	MinConfidence float64
	// MinLift keeps only rules that say more than the cause's base rate.
	MinLift float64
	// MaxItems is the most patterns a rule's condition holds (1 or 2).
	MaxItems int
}

// DefaultConfig mines rules seen in 5% of the cases, right 60% of the time
// and at least 1.2 times the base rate, of one or two patterns.
func DefaultConfig() Config {
	return Config{MinSupport: 0.05, MinConfidence: 0.6, MinLift: 1.2, MaxItems: 2}
}

// Mine learns association rules "patterns → cause kind (→ action)" from the
// cases, strongest first (confidence, then lift, then support). Cases
// without a cause are skipped.
func Mine(cases []Case, cfg Config) []signal.Rule {
	d := DefaultConfig()
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = d.MaxItems
	}
	var kept []Case
	for _, c := range cases {
		if c.Cause != "" {
			kept = append(kept, c)
		}
	}
	n := float64(len(kept))
	if n == 0 {
		return nil
	}
	causeN := map[string]int{}
	condN := map[string]int{}
	jointN := map[[2]string]int{}
	actionN := map[[2]string]map[string]int{}
	for _, c := range kept {
		causeN[c.Cause]++
		items := slices.Compact(slices.Sorted(slices.Values(c.Patterns)))
		for _, cond := range conditions(items, cfg.MaxItems) {
			condN[cond]++
			k := [2]string{cond, c.Cause}
			jointN[k]++
			if c.Action != "" {
				if actionN[k] == nil {
					actionN[k] = map[string]int{}
				}
				actionN[k][c.Action]++
			}
		}
	}
	var out []signal.Rule
	for k, j := range jointN {
		sup := float64(j) / n
		conf := float64(j) / float64(condN[k[0]])
		lift := conf / (float64(causeN[k[1]]) / n)
		if sup < cfg.MinSupport || conf < cfg.MinConfidence || lift < cfg.MinLift {
			continue
		}
		r := signal.Rule{If: strings.Split(k[0], "\x00"), Cause: k[1], Support: round(sup), Confidence: round(conf), Lift: round(lift), Origin: Mined}
		if acts := actionN[k]; len(acts) > 0 {
			r.Action = slices.MaxFunc(slices.Sorted(maps.Keys(acts)), func(a, b string) int { return cmp.Compare(acts[a], acts[b]) })
		}
		out = append(out, r)
	}
	// A pair rule that is no more confident than one of its single-pattern
	// rules adds nothing.
	single := map[[2]string]float64{}
	for _, r := range out {
		if len(r.If) == 1 {
			single[[2]string{r.If[0], r.Cause}] = r.Confidence
		}
	}
	out = slices.DeleteFunc(out, func(r signal.Rule) bool {
		if len(r.If) < 2 {
			return false
		}
		for _, p := range r.If {
			if c, ok := single[[2]string{p, r.Cause}]; ok && c >= r.Confidence {
				return true
			}
		}
		return false
	})
	slices.SortFunc(out, func(a, b signal.Rule) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(b.Lift, a.Lift), cmp.Compare(b.Support, a.Support),
			cmp.Compare(strings.Join(a.If, ","), strings.Join(b.If, ",")), cmp.Compare(a.Cause, b.Cause))
	})
	return out
}

// conditions are the item sets of size 1..max of the sorted items, each
// joined by NUL.
func conditions(items []string, maxItems int) []string {
	out := slices.Clone(items)
	if maxItems >= 2 {
		for i := range items {
			for j := i + 1; j < len(items); j++ {
				out = append(out, items[i]+"\x00"+items[j])
			}
		}
	}
	return out
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// Matches reports whether every pattern of the rule is among the incident's
// patterns (a sorted set).
func Matches(r signal.Rule, patterns []string) bool {
	if len(r.If) == 0 {
		return false
	}
	for _, p := range r.If {
		if _, ok := slices.BinarySearch(patterns, p); !ok {
			return false
		}
	}
	return true
}

// Gain is how much a fully confident rule raises the causes of its kind:
// a cause's score s becomes 1-(1-s)(1-Gain·confidence).
const Gain = 0.25

// Apply raises every cause whose kind a matching rule names, adds the rule
// to its evidence, re-ranks the causes and returns the rules that fired.
// The causes are changed in place; patterns must be sorted.
func Apply(causes []signal.Cause, patterns []string, rs []signal.Rule) []signal.Rule {
	var fired []signal.Rule
	for _, r := range rs {
		if !Matches(r, patterns) {
			continue
		}
		hit := false
		for i := range causes {
			c := &causes[i]
			if c.Kind != r.Cause {
				continue
			}
			hit = true
			c.Score = 1 - (1-c.Score)*(1-Gain*clamp01(r.Confidence))
			c.Evidence = append(c.Evidence, Describe(r))
		}
		if hit {
			fired = append(fired, r)
		}
	}
	slices.SortStableFunc(causes, func(a, b signal.Cause) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Entity, b.Entity))
	})
	return fired
}

// Describe is a rule in words, as evidence.
func Describe(r signal.Rule) string {
	id := ""
	if r.ID != 0 {
		id = " #" + strconv.FormatInt(r.ID, 10)
	}
	s := fmt.Sprintf("rule%s (%s): %s → %s, support %.2f, confidence %.2f, lift %.2f", id, cmp.Or(r.Origin, Manual),
		strings.Join(r.If, " & "), r.Cause, r.Support, r.Confidence, r.Lift)
	if r.Action != "" {
		s += ", fixed by " + r.Action
	}
	return s
}

// Reinforce moves a rule's confidence towards 1 when an operator confirmed
// a cause of its kind on an incident it fired on, and towards 0 when they
// rejected it, by rate (0.1 if zero).
func Reinforce(r *signal.Rule, confirmed bool, rate float64) {
	if rate <= 0 {
		rate = 0.1
	}
	if confirmed {
		r.Confidence = round(r.Confidence + rate*(1-r.Confidence))
	} else {
		r.Confidence = round(r.Confidence - rate*r.Confidence)
	}
}

func clamp01(x float64) float64 {
	if x > 1 {
		return 1
	}
	if x > 0 {
		return x
	}
	return 0
}
