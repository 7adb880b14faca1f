// Package knowledge is seer's repository: every observation, change event and
// alarm, the incidents made of them, the rules learned from them, and the
// audit record of every runbook execution. The Store interface is what the
// engine needs; sqlite/ is the embedded default.
package knowledge

import (
	"context"
	"errors"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// ErrNotFound is returned when the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ObservationQuery selects observations. Zero fields do not filter.
type ObservationQuery struct {
	Entity string
	Kinds  []signal.ObsKind
	// Since and Until bound the observation's Time: Since <= Time < Until.
	Since, Until time.Time
	// IDs selects these observations only.
	IDs []int64
	// Limit caps the result (newest first); 0 means the store's default (1000).
	Limit int
}

// EventQuery selects events. Zero fields do not filter.
type EventQuery struct {
	Entity       string
	Since, Until time.Time
	Limit        int
}

// ExecutionQuery selects runbook execution records across incidents,
// newest first. Zero fields do not filter.
type ExecutionQuery struct {
	// Since and Until bound the record's Started: Since <= Started < Until.
	// A record never started (planned, waiting for approval) has no time
	// and is left out when either is given.
	Since, Until time.Time
	// Limit caps the result; 0 means the store's default (1000).
	Limit int
}

// IncidentQuery selects incidents, newest first. Zero fields do not filter.
type IncidentQuery struct {
	Status signal.IncidentStatus
	Since  time.Time // incidents updated at or after Since
	Limit  int
}

// Store is the repository. Implementations are safe for concurrent use.
type Store interface {
	// AddObservations stores the observations and sets their IDs in place.
	AddObservations(ctx context.Context, obs []signal.Observation) error
	Observations(ctx context.Context, q ObservationQuery) ([]signal.Observation, error)

	// AddEvent stores the event and sets its ID.
	AddEvent(ctx context.Context, e *signal.Event) error
	Events(ctx context.Context, q EventQuery) ([]signal.Event, error)

	// PutIncident inserts an incident whose ID is 0 (setting the ID) or
	// replaces the stored one with the same ID.
	PutIncident(ctx context.Context, in *signal.Incident) error
	Incident(ctx context.Context, id int64) (signal.Incident, error)
	Incidents(ctx context.Context, q IncidentQuery) ([]signal.Incident, error)

	// PutRule inserts (ID 0) or replaces a rule.
	PutRule(ctx context.Context, r *signal.Rule) error
	Rules(ctx context.Context) ([]signal.Rule, error)
	DeleteRule(ctx context.Context, id int64) error

	// AddExecution inserts (ID 0) or updates an execution record.
	AddExecution(ctx context.Context, e *signal.Execution) error
	Executions(ctx context.Context, incidentID int64) ([]signal.Execution, error)
	// AuditLog returns the execution records of every incident, newest
	// recorded first: the runbook audit log.
	AuditLog(ctx context.Context, q ExecutionQuery) ([]signal.Execution, error)

	Close() error
}
