package testbed

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Recurrence is what a fault's second occurrence gains from the first's
// confirmed diagnosis: the first time seer ranks the target top after the
// injection, then, after an operator confirms that incident (so that the
// trace stage keeps its negative fingerprints), when the same fault
// injected again is matched by one of them.
type Recurrence struct {
	Fault     string   `json:"fault"`
	Target    string   `json:"target"`
	Incident  int64    `json:"incident"`
	FirstS    *float64 `json:"first_diagnosis_s"`
	KnownS    *float64 `json:"known_failure_s"`
	SecondS   *float64 `json:"second_diagnosis_s"`
	KnownName string   `json:"known_failure,omitempty"`
}

// Recur injects a fault, waits for seer to rank its target top, confirms
// that incident as an operator would, undoes the fault, lets the testbed
// settle, and injects it again.
func (t *Testbed) Recur(ctx context.Context, kind, target string, cc CampaignConfig) (Recurrence, error) {
	r := Recurrence{Fault: kind, Target: target}
	api := seerAPI{url: t.SeerURL(), c: client}
	if err := sleep(ctx, cc.WarmUp); err != nil {
		return r, err
	}
	// The first occurrence: diagnosed by the ranking.
	if _, err := api.resolveOpen(ctx); err != nil {
		return r, err
	}
	in, err := t.injector.Inject(ctx, kind, target, cc.For, nil)
	if err != nil {
		return r, err
	}
	var first signal.Incident
	for time.Since(in.Start) < cc.For && first.ID == 0 {
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return r, err
		}
		list, _ := api.incidents(ctx)
		for _, x := range list {
			if x.Status != signal.IncidentResolved && !x.Updated.Before(in.Start) && x.Top().Entity == target {
				first = x
				r.FirstS = since(in.Start, time.Now())
				break
			}
		}
	}
	if first.ID == 0 {
		t.injector.Stop(ctx, in.ID, "stopped")
		return r, fmt.Errorf("the first %s on %s was not diagnosed within %s", kind, target, cc.For)
	}
	r.Incident = first.ID
	// Its trace evidence must be in before it is confirmed.
	if err := sleep(ctx, 10*time.Second); err != nil {
		return r, err
	}
	body := fmt.Sprintf(`{"confirm":%q}`, target)
	if err := post(ctx, api.url+"/api/v1/incidents/"+strconv.FormatInt(first.ID, 10)+"/feedback", "application/json", []byte(body)); err != nil {
		return r, fmt.Errorf("confirming incident %d: %w", first.ID, err)
	}
	t.injector.Stop(ctx, in.ID, "stopped")
	if err := sleep(ctx, cc.Settle); err != nil {
		return r, err
	}
	if _, err := api.resolveOpen(ctx); err != nil {
		return r, err
	}
	if err := sleep(ctx, cc.Gap); err != nil {
		return r, err
	}
	// The second: matched by a negative fingerprint, if one was kept.
	in, err = t.injector.Inject(ctx, kind, target, cc.For, nil)
	if err != nil {
		return r, err
	}
	defer t.injector.Stop(context.WithoutCancel(ctx), in.ID, "stopped")
	for time.Since(in.Start) < cc.For && (r.KnownS == nil || r.SecondS == nil) {
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return r, err
		}
		now := time.Now()
		if r.KnownS == nil {
			obs, _ := api.observations(ctx, string(signal.TraceStructure), in.Start)
			for _, o := range obs {
				if o.Evidence["known_failure"] != "" && !o.Time.Before(in.Start) {
					r.KnownS, r.KnownName = since(in.Start, now), o.Evidence["known_failure"]
				}
			}
		}
		if r.SecondS == nil {
			list, _ := api.incidents(ctx)
			for _, x := range list {
				if x.Status != signal.IncidentResolved && !x.Updated.Before(in.Start) && x.Top().Entity == target {
					r.SecondS = since(in.Start, now)
				}
			}
		}
	}
	return r, nil
}
