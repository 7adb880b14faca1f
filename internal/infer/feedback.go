package infer

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/infer/rules"
	"github.com/seerops/seer/internal/signal"
)

// The incident labels feedback is stored under, so that it lives with the
// incident in the knowledge store and the weights can be rebuilt from it.
const (
	LabelConfirmed = "feedback.confirmed"
	LabelRejected  = "feedback.rejected"
	LabelBy        = "feedback.by"
	LabelAt        = "feedback.at"
	LabelCauseKind = "feedback.kind"
	LabelRules     = "rules.fired"
)

// Feedback is an operator's verdict on an incident's diagnosis.
type Feedback struct {
	IncidentID int64
	// Confirm is the entity the operator says was the root cause.
	Confirm string
	// Reject lists entities the operator says were not.
	Reject []string
	// Labels are free labels for the incident ("team=payments").
	Labels map[string]string
	By     string
	At     time.Time
}

// Validate reports what is missing or malformed.
func (f Feedback) Validate() error {
	var errs []error
	if f.IncidentID <= 0 {
		errs = append(errs, errors.New("feedback needs the incident's id"))
	}
	if f.Confirm == "" && len(f.Reject) == 0 && len(f.Labels) == 0 {
		errs = append(errs, errors.New("feedback needs an entity to confirm or reject, or a label"))
	}
	if slices.Contains(f.Reject, f.Confirm) && f.Confirm != "" {
		errs = append(errs, fmt.Errorf("%s is both confirmed and rejected", f.Confirm))
	}
	for k := range f.Labels {
		if k == "" || strings.HasPrefix(k, "feedback.") || strings.HasPrefix(k, "rules.") {
			errs = append(errs, fmt.Errorf("label %q is empty or reserved (feedback.*, rules.*)", k))
		}
	}
	return errors.Join(errs...)
}

// Record writes the feedback into the incident's labels (what the store
// keeps); rejections accumulate, a later confirmation replaces an earlier.
func (f Feedback) Record(in *signal.Incident) {
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	maps.Copy(in.Labels, f.Labels)
	if f.Confirm != "" {
		in.Labels[LabelConfirmed] = f.Confirm
		for _, c := range in.Causes {
			if c.Entity == f.Confirm && c.Kind != "" {
				in.Labels[LabelCauseKind] = c.Kind
			}
		}
	}
	if len(f.Reject) > 0 {
		rej := splitList(in.Labels[LabelRejected])
		for _, r := range f.Reject {
			if !slices.Contains(rej, r) {
				rej = append(rej, r)
			}
		}
		rej = slices.DeleteFunc(rej, func(s string) bool { return s == in.Labels[LabelConfirmed] })
		in.Labels[LabelRejected] = strings.Join(rej, ",")
	}
	if f.By != "" {
		in.Labels[LabelBy] = f.By
	}
	if !f.At.IsZero() {
		in.Labels[LabelAt] = f.At.UTC().Format(time.RFC3339)
	}
}

// FeedbackOf reads the feedback recorded in an incident's labels.
func FeedbackOf(in signal.Incident) Feedback {
	return Feedback{IncidentID: in.ID, Confirm: in.Labels[LabelConfirmed], Reject: splitList(in.Labels[LabelRejected]), By: in.Labels[LabelBy]}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Weights are the ranking weights feedback has learned: how often each
// entity was confirmed and rejected as a root cause, and each verdict with
// the services its incident affected.
type Weights struct {
	Confirmed map[string]int `json:"confirmed"`
	Rejected  map[string]int `json:"rejected"`
	Verdicts  []Verdict      `json:"verdicts,omitempty"`
}

// Verdict is one incident's feedback with what the incident looked like.
type Verdict struct {
	// Services are the services the incident affected, sorted.
	Services  []string `json:"services"`
	Confirmed string   `json:"confirmed,omitempty"`
	Rejected  []string `json:"rejected,omitempty"`
}

// similarVerdict is how alike (Jaccard over affected services) a past
// incident must be for its verdict to bear on a new one: nearly the same
// services, the same trouble recurring. Looser likeness lets a verdict on
// one service's fault raise it in a neighbour's, where it is the victim.
const similarVerdict = 0.8

// Factor is what an entity's score is multiplied by in an incident that
// affected services.
//
// Verdicts on similar past incidents speak first: each one that confirmed
// the entity raises it, each that rejected it lowers it, in proportion to
// the likeness. On a platform where faults strike every service in turn, a
// service confirmed as the cause of unrelated incidents is no likelier to
// be the cause of this one, and raising it would rank it above the cause
// whenever it is the victim; a service rejected when the same services
// were troubled is likely a victim again. Without verdicts on similar
// incidents (or without their services) the plain counts decide: each
// confirmation raises it and each rejection lowers it by a third.
// The factor stays within [0.25, 2].
func (w Weights) Factor(entity string, services []string) float64 {
	if len(w.Verdicts) > 0 && len(services) > 0 {
		d, similar := 0.0, false
		for _, v := range w.Verdicts {
			sim := jaccard(services, v.Services)
			if sim < similarVerdict {
				continue
			}
			similar = true
			if v.Confirmed == entity {
				d += sim
			}
			if slices.Contains(v.Rejected, entity) {
				d -= sim
			}
		}
		if similar {
			return min(2, max(0.25, math.Pow(1.5, d)))
		}
		return 1
	}
	d := float64(w.Confirmed[entity] - w.Rejected[entity])
	return min(2, max(0.25, math.Pow(1.5, d)))
}

// jaccard is the likeness of two sorted sets.
func jaccard(a, b []string) float64 {
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// servicesOf is the sorted set of services an incident's entities name.
func servicesOf(entities []string) []string {
	var out []string
	for _, e := range entities {
		s := rca.Service(e)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Learn takes an operator's verdict: the confirmed and rejected entities
// shift the ranking weights, and the rules that fired on the incident gain
// or lose confidence by whether they named the confirmed cause's kind. It
// returns the rules it changed, for the caller to store.
func (i *Inferrer) Learn(f Feedback, in signal.Incident) []signal.Rule {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.weights.Confirmed == nil {
		i.weights = Weights{Confirmed: map[string]int{}, Rejected: map[string]int{}}
	}
	if f.Confirm != "" {
		i.weights.Confirmed[f.Confirm]++
	}
	for _, r := range f.Reject {
		i.weights.Rejected[r]++
	}
	if svc := servicesOf(in.Entities); len(svc) > 0 {
		i.weights.Verdicts = append(i.weights.Verdicts, Verdict{Services: svc, Confirmed: f.Confirm, Rejected: slices.Clone(f.Reject)})
	}
	if f.Confirm == "" {
		return nil
	}
	kind := ""
	for _, c := range in.Causes {
		if c.Entity == f.Confirm {
			kind = c.Kind
		}
	}
	fired := map[int64]bool{}
	for _, s := range splitList(in.Labels[LabelRules]) {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			fired[id] = true
		}
	}
	var changed []signal.Rule
	for k := range i.rules {
		r := &i.rules[k]
		if r.ID == 0 || !fired[r.ID] || kind == "" {
			continue
		}
		rules.Reinforce(r, r.Cause == kind, 0)
		changed = append(changed, *r)
	}
	return changed
}

// LoadFeedback rebuilds the ranking weights from the feedback recorded on
// stored incidents (at start-up).
func (i *Inferrer) LoadFeedback(incidents []signal.Incident) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.weights = Weights{Confirmed: map[string]int{}, Rejected: map[string]int{}}
	for _, in := range incidents {
		f := FeedbackOf(in)
		if f.Confirm != "" {
			i.weights.Confirmed[f.Confirm]++
		}
		for _, r := range f.Reject {
			i.weights.Rejected[r]++
		}
		if svc := servicesOf(in.Entities); len(svc) > 0 && (f.Confirm != "" || len(f.Reject) > 0) {
			i.weights.Verdicts = append(i.weights.Verdicts, Verdict{Services: svc, Confirmed: f.Confirm, Rejected: f.Reject})
		}
	}
}

// Weights returns a copy of the learned ranking weights.
func (i *Inferrer) Weights() Weights {
	i.mu.Lock()
	defer i.mu.Unlock()
	return Weights{Confirmed: maps.Clone(i.weights.Confirmed), Rejected: maps.Clone(i.weights.Rejected), Verdicts: slices.Clone(i.weights.Verdicts)}
}

// SetRules replaces the rules applied to incidents (mined and hand-written,
// as the knowledge store holds them).
func (i *Inferrer) SetRules(rs []signal.Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = slices.Clone(rs)
}

// Rules returns a copy of the rules applied to incidents.
func (i *Inferrer) Rules() []signal.Rule {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.rules)
}

// adjust applies the learned weights and the rules to freshly ranked causes
// and records on the incident which rules fired. The caller holds mu.
func (i *Inferrer) adjust(in *signal.Incident, obs []signal.Observation, causes []signal.Cause) []signal.Cause {
	if len(causes) == 0 {
		return causes
	}
	if len(i.weights.Confirmed)+len(i.weights.Rejected) > 0 {
		top := 0.0
		services := servicesOf(in.Entities)
		for k := range causes {
			f := i.weights.Factor(causes[k].Entity, services)
			if f != 1 {
				causes[k].Score *= f
				verb := "confirmed"
				if f < 1 {
					verb = "rejected"
				}
				where := ""
				if len(i.weights.Verdicts) > 0 && len(services) > 0 {
					where = " in incidents like this one"
				}
				causes[k].Evidence = append(causes[k].Evidence, fmt.Sprintf("operators %s %s as a root cause%s before (%d confirmed, %d rejected in all): weight %.2f",
					verb, causes[k].Entity, where, i.weights.Confirmed[causes[k].Entity], i.weights.Rejected[causes[k].Entity], f))
			}
			top = max(top, causes[k].Score)
		}
		if top > 1 {
			for k := range causes {
				causes[k].Score /= top
			}
		}
		slices.SortStableFunc(causes, func(a, b signal.Cause) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Entity, b.Entity))
		})
	}
	if len(i.rules) == 0 {
		return causes
	}
	fired := rules.Apply(causes, rules.Patterns(obs), i.rules)
	var ids []string
	for _, r := range fired {
		if r.ID != 0 {
			ids = append(ids, strconv.FormatInt(r.ID, 10))
		}
	}
	if len(ids) > 0 {
		if in.Labels == nil {
			in.Labels = map[string]string{}
		}
		in.Labels[LabelRules] = strings.Join(ids, ",")
	}
	return causes
}

// SetWeights replaces the learned ranking weights (an evaluation carrying
// what was learned on some cases to others).
func (i *Inferrer) SetWeights(w Weights) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.weights = Weights{Confirmed: maps.Clone(w.Confirmed), Rejected: maps.Clone(w.Rejected), Verdicts: slices.Clone(w.Verdicts)}
	if i.weights.Confirmed == nil {
		i.weights.Confirmed = map[string]int{}
	}
	if i.weights.Rejected == nil {
		i.weights.Rejected = map[string]int{}
	}
}
