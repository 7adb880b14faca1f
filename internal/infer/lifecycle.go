package infer

import (
	"errors"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// The actions an operator takes on an incident.
const (
	ActionAck     = "ack"
	ActionResolve = "resolve"
	ActionReopen  = "reopen"
)

// ErrTransition is wrapped by the errors of an action that does not apply
// to the incident's state (resolving a resolved incident).
var ErrTransition = errors.New("the action does not apply")

// Apply takes an operator's action on in, a stored incident, at now: the
// one the Inferrer holds with the same ID if it still does, so that what
// it correlates next keeps the operator's word, else in itself. It
// returns the incident as it is now, to be stored.
func (i *Inferrer) Apply(in signal.Incident, action, by string, now time.Time) (signal.Incident, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var live *signal.Incident
	for _, x := range i.corr.Incidents() {
		if x.ID == in.ID && in.ID != 0 {
			live = x
		}
	}
	target := &in
	if live != nil {
		target = live
	}
	switch action {
	case ActionAck:
		if target.Status == signal.IncidentResolved {
			return in, fmt.Errorf("%w: incident %d is resolved; reopen it first", ErrTransition, in.ID)
		}
		target.Acknowledged, target.AcknowledgedBy = now, by
	case ActionResolve:
		if target.Status == signal.IncidentResolved {
			return in, fmt.Errorf("%w: incident %d is resolved already", ErrTransition, in.ID)
		}
		if live == nil || !i.corr.Resolve(live, now) {
			target.Status, target.Resolved = signal.IncidentResolved, now
		}
	case ActionReopen:
		if target.Status != signal.IncidentResolved {
			return in, fmt.Errorf("%w: incident %d is not resolved", ErrTransition, in.ID)
		}
		if live == nil || !i.corr.Reopen(live, now) {
			target.Status, target.Resolved = signal.IncidentOpen, time.Time{}
		}
		target.Acknowledged, target.AcknowledgedBy = time.Time{}, ""
	default:
		return in, fmt.Errorf("%w: %q is not ack, resolve or reopen", ErrTransition, action)
	}
	target.Updated = now
	return *i.snapshot(target), nil
}
