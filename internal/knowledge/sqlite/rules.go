package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// PutRule inserts a rule whose ID is 0 and sets the ID, or replaces the
// stored one; an ID the store does not hold is ErrNotFound.
func (s *Store) PutRule(ctx context.Context, r *signal.Rule) error {
	pats, err := json.Marshal(r.If)
	if err != nil {
		return fmt.Errorf("storing rule %d: %w", r.ID, err)
	}
	args := []any{string(pats), r.Cause, r.Action, finite(r.Support), finite(r.Confidence), finite(r.Lift), r.Origin}
	if r.ID != 0 {
		err := s.update(ctx, "rule", r.ID,
			`UPDATE rules SET patterns = ?, cause = ?, action = ?, support = ?, confidence = ?, lift = ?, origin = ? WHERE id = ?`,
			append(args, r.ID)...)
		if err != nil {
			return fmt.Errorf("replacing rule %d: %w", r.ID, err)
		}
		return nil
	}
	id, err := s.insert(ctx, `INSERT INTO rules (patterns, cause, action, support, confidence, lift, origin) VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("storing a new rule: %w", err)
	}
	r.ID = id
	return nil
}

// Rules returns every rule in the order they were first stored.
func (s *Store) Rules(ctx context.Context) ([]signal.Rule, error) {
	return queryAll(ctx, s.r, "rules", `SELECT id, patterns, cause, action, support, confidence, lift, origin FROM rules ORDER BY id`,
		nil, scanRule)
}

func scanRule(row scanner) (signal.Rule, error) {
	var (
		r                         signal.Rule
		pats                      string
		support, confidence, lift sql.NullFloat64
	)
	if err := row.Scan(&r.ID, &pats, &r.Cause, &r.Action, &support, &confidence, &lift, &r.Origin); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(pats), &r.If); err != nil {
		return r, fmt.Errorf("the patterns of rule %d: %w", r.ID, err)
	}
	r.Support, r.Confidence, r.Lift = support.Float64, confidence.Float64, lift.Float64
	return r, nil
}

// DeleteRule deletes the rule, or returns an error wrapping
// knowledge.ErrNotFound when there is none with the ID.
func (s *Store) DeleteRule(ctx context.Context, id int64) error {
	if err := s.update(ctx, "rule", id, `DELETE FROM rules WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting rule: %w", err)
	}
	return nil
}

// AddExecution inserts an execution record whose ID is 0 and sets the ID,
// or updates the stored one; an ID the store does not hold is ErrNotFound.
func (s *Store) AddExecution(ctx context.Context, e *signal.Execution) error {
	started, err := nanos(e.Started)
	if err != nil {
		return fmt.Errorf("recording execution of %s/%s: started: %w", e.Runbook, e.Step, err)
	}
	ended, err := nanos(e.Ended)
	if err != nil {
		return fmt.Errorf("recording execution of %s/%s: ended: %w", e.Runbook, e.Step, err)
	}
	args := []any{e.IncidentID, e.Runbook, e.Step, e.Target, e.Mode, e.Trigger, e.Status, e.Input, e.Output, started, ended, e.PGID}
	if e.ID != 0 {
		err := s.update(ctx, "execution", e.ID, `UPDATE executions SET incident_id = ?, runbook = ?, step = ?, target = ?,
			mode = ?, triggered_by = ?, status = ?, input = ?, output = ?, started = ?, ended = ?, pgid = ? WHERE id = ?`,
			append(args, e.ID)...)
		if err != nil {
			return fmt.Errorf("updating execution %d: %w", e.ID, err)
		}
		return nil
	}
	id, err := s.insert(ctx, `INSERT INTO executions (incident_id, runbook, step, target, mode, triggered_by, status,
		input, output, started, ended, pgid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("recording execution of %s/%s: %w", e.Runbook, e.Step, err)
	}
	e.ID = id
	return nil
}

// Executions returns the incident's execution records in the order they
// were first recorded.
func (s *Store) Executions(ctx context.Context, incidentID int64) ([]signal.Execution, error) {
	return queryAll(ctx, s.r, fmt.Sprintf("the executions of incident %d", incidentID),
		`SELECT `+executionColumns+` FROM executions WHERE incident_id = ? ORDER BY id`, []any{incidentID}, scanExecution)
}

// AuditLog returns the execution records of every incident, newest
// recorded first (an update keeps a record's place).
func (s *Store) AuditLog(ctx context.Context, q knowledge.ExecutionQuery) ([]signal.Execution, error) {
	var w where
	w.timeRange("started", q.Since, q.Until)
	return queryAll(ctx, s.r, "the audit log", `SELECT `+executionColumns+` FROM executions`+w.String()+
		` ORDER BY id DESC LIMIT ?`, append(w.args, limit(q.Limit)), scanExecution)
}

// ExecutionsWithStatus returns every execution record with the status, in
// the order first recorded: after a crash, the runs still marked running.
func (s *Store) ExecutionsWithStatus(ctx context.Context, status string) ([]signal.Execution, error) {
	return queryAll(ctx, s.r, fmt.Sprintf("the %s executions", status),
		`SELECT `+executionColumns+` FROM executions WHERE status = ? ORDER BY id`, []any{status}, scanExecution)
}

const executionColumns = `id, incident_id, runbook, step, target, mode, triggered_by, status, input, output, started, ended, pgid`

func scanExecution(r scanner) (signal.Execution, error) {
	var (
		e              signal.Execution
		started, ended sql.NullInt64
	)
	if err := r.Scan(&e.ID, &e.IncidentID, &e.Runbook, &e.Step, &e.Target, &e.Mode, &e.Trigger, &e.Status,
		&e.Input, &e.Output, &started, &ended, &e.PGID); err != nil {
		return e, err
	}
	e.Started, e.Ended = fromNanos(started), fromNanos(ended)
	return e, nil
}
