package loghub

import (
	"context"
	"fmt"

	"github.com/seerops/seer/internal/detect/logs"
)

// Candidate is one miner setting a selection may choose.
type Candidate struct {
	Name   string
	Config logs.MinerConfig
}

// Candidates are the settings leave-one-out chooses among: the default,
// the default with each rule turned off, and the default's neighbours in
// similarity threshold and tree depth.
func Candidates() []Candidate {
	out := []Candidate{{Name: "default"}}
	for _, r := range logs.Rules {
		out = append(out, Candidate{Name: "without " + r.Name, Config: logs.MinerConfig{Without: r.Rule}})
	}
	for _, th := range []float64{0.6, 0.7, 0.8, 0.9} {
		out = append(out, Candidate{Name: fmt.Sprintf("sim %.2f", th), Config: logs.MinerConfig{SimThreshold: th}})
	}
	for _, d := range []int{2, 3} {
		out = append(out, Candidate{Name: fmt.Sprintf("depth %d", d), Config: logs.MinerConfig{Depth: d}})
	}
	return out
}

// HeldOut is a dataset's score under the setting chosen without it.
type HeldOut struct {
	Chosen string `json:"chosen"`
	Metrics
}

// LOOReport is what leave-one-out found: for each dataset, the score under
// the candidate that scored best on the other datasets, and the average of
// those held-out scores, the honest figure for logs not seen; beside it
// the score of every candidate on every dataset, from which the worth of
// each rule on the sets that did not motivate it can be read.
type LOOReport struct {
	HeldOut    map[string]HeldOut `json:"held_out"`
	Average    Metrics            `json:"average"`
	Candidates []string           `json:"candidates"`
	// Scores are by candidate, in the order of Candidates.
	Scores []Report `json:"scores"`
}

// LeaveOneOut scores every candidate on every dataset, then, for each
// dataset, chooses the candidate with the best sum of GA and PA on the
// others, the earlier on a tie, and reports the dataset's score under it.
func LeaveOneOut(ctx context.Context, sets []Dataset, cands []Candidate) (LOOReport, error) {
	rep := LOOReport{HeldOut: make(map[string]HeldOut, len(sets))}
	for _, c := range cands {
		r, err := Run(ctx, sets, c.Config)
		if err != nil {
			return LOOReport{}, err
		}
		rep.Candidates = append(rep.Candidates, c.Name)
		rep.Scores = append(rep.Scores, r)
	}
	if len(cands) == 0 {
		return rep, nil
	}
	var held []Metrics
	for _, out := range sets {
		best, bestSum := 0, -1.0
		for k, r := range rep.Scores {
			sum := 0.0
			for _, ds := range sets {
				if ds.Name != out.Name {
					sum += r.Datasets[ds.Name].GA + r.Datasets[ds.Name].PA
				}
			}
			// A little slack, so that rounding never decides a tie.
			if sum > bestSum+1e-9 {
				best, bestSum = k, sum
			}
		}
		m := rep.Scores[best].Datasets[out.Name]
		rep.HeldOut[out.Name] = HeldOut{Chosen: cands[best].Name, Metrics: m}
		held = append(held, m)
	}
	rep.Average = mean(held)
	return rep, nil
}
