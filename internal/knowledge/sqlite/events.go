package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// AddEvent stores the event as a new one and sets its ID.
func (s *Store) AddEvent(ctx context.Context, e *signal.Event) error {
	t, err := nanos(e.Time)
	if err != nil {
		return fmt.Errorf("storing the event on %s: time: %w", e.Entity, err)
	}
	attrs, err := strMap(e.Attrs)
	if err != nil {
		return fmt.Errorf("storing the event on %s: attrs: %w", e.Entity, err)
	}
	id, err := s.insert(ctx, `INSERT INTO events (time, entity, kind, text, source, attrs) VALUES (?, ?, ?, ?, ?, ?)`,
		t, e.Entity, string(e.Kind), e.Text, e.Source, attrs)
	if err != nil {
		return fmt.Errorf("storing the event on %s: %w", e.Entity, err)
	}
	e.ID = id
	return nil
}

// Events returns the matching events, newest first.
func (s *Store) Events(ctx context.Context, q knowledge.EventQuery) ([]signal.Event, error) {
	var w where
	if q.Entity != "" {
		w.add("entity = ?", q.Entity)
	}
	w.timeRange("time", q.Since, q.Until)
	return queryAll(ctx, s.r, "events", `SELECT id, time, entity, kind, text, source, attrs FROM events`+
		w.String()+` ORDER BY time DESC, id DESC LIMIT ?`, append(w.args, limit(q.Limit)), scanEvent)
}

func scanEvent(r scanner) (signal.Event, error) {
	var (
		e     signal.Event
		t     sql.NullInt64
		kind  string
		attrs sql.NullString
	)
	if err := r.Scan(&e.ID, &t, &e.Entity, &kind, &e.Text, &e.Source, &attrs); err != nil {
		return e, err
	}
	e.Time, e.Kind = fromNanos(t), signal.EventKind(kind)
	var err error
	if e.Attrs, err = parseStrMap(attrs); err != nil {
		return e, fmt.Errorf("the attributes of event %d: %w", e.ID, err)
	}
	return e, nil
}
