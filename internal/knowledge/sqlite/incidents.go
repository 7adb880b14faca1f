package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// incidentDoc is the part of an incident no query filters or sorts on,
// kept as one JSON column so the struct can grow without a migration.
// Times are unix nanoseconds, like the columns, so they come back in UTC;
// slices and maps keep the difference between nil and empty.
type incidentDoc struct {
	Resolved       *int64             `json:"resolved,omitempty"`
	Diagnosed      *int64             `json:"diagnosed,omitempty"`
	Entities       []string           `json:"entities"`
	ObservationIDs []int64            `json:"observation_ids"`
	Causes         []signal.Cause     `json:"causes"`
	Runbook        *signal.Nomination `json:"runbook,omitempty"`
	Labels         map[string]string  `json:"labels"`
	Acknowledged   *int64             `json:"acknowledged,omitempty"`
	AcknowledgedBy string             `json:"acknowledged_by,omitempty"`
}

// incidentArgs are the column values of an incident, in the order
// status, opened, updated, onset, title, doc.
func incidentArgs(in *signal.Incident) ([]any, error) {
	ts := []time.Time{in.Opened, in.Updated, in.Onset, in.Resolved, in.Diagnosed}
	names := []string{"opened", "updated", "onset", "resolved", "diagnosed"}
	col := make([]any, len(ts))
	for i, t := range ts {
		var err error
		if col[i], err = nanos(t); err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
	}
	doc := incidentDoc{
		Resolved:       docTime(col[3]),
		Diagnosed:      docTime(col[4]),
		Entities:       in.Entities,
		ObservationIDs: in.ObservationIDs,
		Runbook:        in.Runbook,
		Labels:         in.Labels,
		AcknowledgedBy: in.AcknowledgedBy,
	}
	if !in.Acknowledged.IsZero() {
		n, err := nanos(in.Acknowledged)
		if err != nil {
			return nil, fmt.Errorf("acknowledged: %w", err)
		}
		doc.Acknowledged = docTime(n)
	}
	if in.Causes != nil {
		// A copy: the caller's causes are not ours to change.
		doc.Causes = make([]signal.Cause, len(in.Causes))
		for i, c := range in.Causes {
			c.Score = zeroNonFinite(c.Score)
			doc.Causes[i] = c
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return []any{string(in.Status), col[0], col[1], col[2], in.Title, string(b)}, nil
}

// docTime is a nanos column value for the document: nil for the zero time.
func docTime(v any) *int64 {
	if n, ok := v.(int64); ok {
		return &n
	}
	return nil
}

// PutIncident inserts an incident whose ID is 0 and sets the ID, or
// replaces the stored one; an ID the store does not hold is ErrNotFound.
func (s *Store) PutIncident(ctx context.Context, in *signal.Incident) error {
	args, err := incidentArgs(in)
	if err != nil {
		return fmt.Errorf("storing incident %d: %w", in.ID, err)
	}
	if in.ID != 0 {
		err := s.update(ctx, "incident", in.ID,
			`UPDATE incidents SET status = ?, opened = ?, updated = ?, onset = ?, title = ?, doc = ? WHERE id = ?`,
			append(args, in.ID)...)
		if err != nil {
			return fmt.Errorf("replacing incident %d: %w", in.ID, err)
		}
		return nil
	}
	id, err := s.insert(ctx, `INSERT INTO incidents (status, opened, updated, onset, title, doc) VALUES (?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("storing a new incident: %w", err)
	}
	in.ID = id
	return nil
}

const selectIncident = `SELECT id, status, opened, updated, onset, title, doc FROM incidents`

// Incident returns the incident with the ID, or an error wrapping
// knowledge.ErrNotFound.
func (s *Store) Incident(ctx context.Context, id int64) (signal.Incident, error) {
	in, err := scanIncident(s.r.QueryRowContext(ctx, selectIncident+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return signal.Incident{}, fmt.Errorf("reading incident: %w", notFound("incident", id))
	}
	if err != nil {
		return signal.Incident{}, fmt.Errorf("reading incident %d: %w", id, err)
	}
	return in, nil
}

// Incidents returns the matching incidents, most recently updated first.
func (s *Store) Incidents(ctx context.Context, q knowledge.IncidentQuery) ([]signal.Incident, error) {
	var w where
	if q.Status != "" {
		w.add("status = ?", string(q.Status))
	}
	w.timeRange("updated", q.Since, time.Time{})
	return queryAll(ctx, s.r, "incidents", selectIncident+w.String()+` ORDER BY updated DESC, id DESC LIMIT ?`,
		append(w.args, limit(q.Limit)), scanIncident)
}

func scanIncident(r scanner) (signal.Incident, error) {
	var (
		in                     signal.Incident
		status, doc            string
		opened, updated, onset sql.NullInt64
	)
	if err := r.Scan(&in.ID, &status, &opened, &updated, &onset, &in.Title, &doc); err != nil {
		return in, err
	}
	var d incidentDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return in, fmt.Errorf("decoding incident %d: %w", in.ID, err)
	}
	in.Status = signal.IncidentStatus(status)
	in.Opened, in.Updated, in.Onset = fromNanos(opened), fromNanos(updated), fromNanos(onset)
	if d.Resolved != nil {
		in.Resolved = fromNanos(sql.NullInt64{Int64: *d.Resolved, Valid: true})
	}
	if d.Diagnosed != nil {
		in.Diagnosed = fromNanos(sql.NullInt64{Int64: *d.Diagnosed, Valid: true})
	}
	if d.Acknowledged != nil {
		in.Acknowledged = fromNanos(sql.NullInt64{Int64: *d.Acknowledged, Valid: true})
	}
	in.AcknowledgedBy = d.AcknowledgedBy
	in.Entities, in.ObservationIDs, in.Causes, in.Runbook, in.Labels = d.Entities, d.ObservationIDs, d.Causes, d.Runbook, d.Labels
	return in, nil
}
