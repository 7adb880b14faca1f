package tsad

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
)

// PRF is a precision, recall and F1, with the threshold they were taken at.
type PRF struct {
	F1        float64 `json:"f1"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Threshold float64 `json:"threshold"`
}

func prf(tp, fp, fn int) PRF {
	var r PRF
	if tp+fp > 0 {
		r.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r.Recall = float64(tp) / float64(tp+fn)
	}
	if tp > 0 {
		r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
	}
	return r
}

// Best is the best F1 over every threshold: a row is an alarm when its score
// is at or above the threshold, and every distinct score is tried. NaN
// scores never alarm.
func Best(scores []float64, labels []bool) PRF {
	idx := make([]int, 0, len(scores))
	pos := 0
	for i, s := range scores {
		if labels[i] {
			pos++
		}
		if !math.IsNaN(s) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	best := prf(0, 0, pos)
	best.Threshold = math.Inf(1)
	tp, fp := 0, 0
	for k, i := range idx {
		if labels[i] {
			tp++
		} else {
			fp++
		}
		if k+1 < len(idx) && scores[idx[k+1]] == scores[i] {
			continue // a threshold flags every row of its score at once
		}
		if r := prf(tp, fp, pos-tp); r.F1 > best.F1 {
			r.Threshold = scores[i]
			best = r
		}
	}
	return best
}

// At is the precision, recall and F1 at the fixed threshold t.
func At(scores []float64, labels []bool, t float64) PRF {
	tp, fp, fn := 0, 0, 0
	for i, s := range scores {
		switch alarm := s >= t; {
		case alarm && labels[i]:
			tp++
		case alarm:
			fp++
		case labels[i]:
			fn++
		}
	}
	r := prf(tp, fp, fn)
	r.Threshold = t
	return r
}

// EntityReport is one entity's figures.
type EntityReport struct {
	Set  string  `json:"set"`
	Rows int     `json:"rows"`
	Rate float64 `json:"anomaly_rate"`
	// Best is the best F1 over every threshold, Fixed the F1 at the
	// production threshold.
	Best  PRF `json:"best"`
	Fixed PRF `json:"at_threshold"`
}

// Average is the mean over entities of their figures.
type Average struct {
	BestF1        float64 `json:"best_f1"`
	Precision     float64 `json:"precision"`
	Recall        float64 `json:"recall"`
	F1AtThreshold float64 `json:"f1_at_threshold"`
	// PAtThreshold and RAtThreshold are the precision and recall at the
	// production threshold.
	PAtThreshold float64 `json:"precision_at_threshold"`
	RAtThreshold float64 `json:"recall_at_threshold"`
	// FlagAll is the best F1 of flagging every row, 2r/(1+r): a figure
	// near it says nothing.
	FlagAll float64 `json:"flag_all"`
}

// SetReport is one set's averages.
type SetReport struct {
	Entities int `json:"entities"`
	Average
}

// Report is the outcome of `seer eval tsad`.
type Report struct {
	Entities  int                     `json:"entities"`
	Threshold float64                 `json:"threshold"`
	Average   Average                 `json:"average"`
	Sets      map[string]SetReport    `json:"sets"`
	PerEntity map[string]EntityReport `json:"per_entity"`
}

// Evaluate scores every entity's test rows; scores holds them by set and
// entity name. An entity without scores, or with a different number of
// scores than test rows, is an error.
func Evaluate(ents []Entity, scores Scores, threshold float64) (Report, error) {
	rep := Report{Threshold: threshold, Sets: map[string]SetReport{}, PerEntity: map[string]EntityReport{}}
	sums := map[string]*Average{}
	var order []string
	var all Average
	for _, e := range ents {
		s := scores[e.Set][e.Name]
		if len(s) != len(e.Labels) {
			return rep, fmt.Errorf("tsad: %s/%s has %d scores for %d test rows", e.Set, e.Name, len(s), len(e.Labels))
		}
		pos := 0
		for _, l := range e.Labels {
			if l {
				pos++
			}
		}
		rate := float64(pos) / float64(max(1, len(e.Labels)))
		er := EntityReport{Set: e.Set, Rows: len(e.Labels), Rate: rate, Best: Best(s, e.Labels), Fixed: At(s, e.Labels, threshold)}
		rep.PerEntity[e.Set+"/"+e.Name] = er
		a := sums[e.Set]
		if a == nil {
			a = &Average{}
			sums[e.Set] = a
			order = append(order, e.Set)
		}
		for _, x := range []*Average{a, &all} {
			x.BestF1 += er.Best.F1
			x.Precision += er.Best.Precision
			x.Recall += er.Best.Recall
			x.F1AtThreshold += er.Fixed.F1
			x.PAtThreshold += er.Fixed.Precision
			x.RAtThreshold += er.Fixed.Recall
			x.FlagAll += 2 * rate / (1 + rate)
		}
		rep.Entities++
	}
	mean := func(a Average, n int) Average {
		f := 1 / float64(max(n, 1))
		return Average{a.BestF1 * f, a.Precision * f, a.Recall * f, a.F1AtThreshold * f, a.PAtThreshold * f, a.RAtThreshold * f, a.FlagAll * f}
	}
	for _, set := range order {
		n := 0
		for _, er := range rep.PerEntity {
			if er.Set == set {
				n++
			}
		}
		rep.Sets[set] = SetReport{Entities: n, Average: mean(*sums[set], n)}
	}
	rep.Average = mean(all, rep.Entities)
	return rep, nil
}

// WriteTable prints r for a reader: one line per set, then per entity.
func (r Report) WriteTable(w io.Writer, perEntity bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "tsad: %d entities, point-wise, no point adjustment; F1@thr at the fixed threshold %.4g\n\n", r.Entities, r.Threshold)
	fmt.Fprintf(tw, "set\tentities\tbest F1\tP\tR\tF1@thr\tP\tR\tflag_all\t\n")
	sets := make([]string, 0, len(r.Sets))
	for s := range r.Sets {
		sets = append(sets, s)
	}
	slices.Sort(sets)
	for _, s := range sets {
		a := r.Sets[s]
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", s, a.Entities, a.BestF1, a.Precision, a.Recall, a.F1AtThreshold, a.PAtThreshold, a.RAtThreshold, a.FlagAll)
	}
	if perEntity {
		names := make([]string, 0, len(r.PerEntity))
		for n := range r.PerEntity {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprintf(tw, "\nentity\trate\tbest F1\tP\tR\tthreshold\tF1@thr\t\n")
		for _, n := range names {
			e := r.PerEntity[n]
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.4g\t%.3f\t\n", n, e.Rate, e.Best.F1, e.Best.Precision, e.Best.Recall, e.Best.Threshold, e.Fixed.F1)
		}
	}
	return tw.Flush()
}
