package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

const insertObservation = `INSERT INTO observations
	(time, start, entity, kind, name, score, actual, expected, low, high, summary, evidence)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AddObservations stores the batch in one transaction and sets the IDs in
// place; on error none is stored and no ID is changed. A preset ID is
// ignored: every observation is inserted as a new one.
func (s *Store) AddObservations(ctx context.Context, obs []signal.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	// Encode everything first, so bad input fails before a lock is taken.
	rows := make([][]any, len(obs))
	for i := range obs {
		args, err := observationArgs(&obs[i])
		if err != nil {
			return fmt.Errorf("storing observations: observation %d (%s/%s): %w", i, obs[i].Entity, obs[i].Name, err)
		}
		rows[i] = args
	}
	ids := make([]int64, len(obs))
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertObservation)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, args := range rows {
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing observations: %w", err)
	}
	for i := range obs {
		obs[i].ID = ids[i]
	}
	return nil
}

func observationArgs(o *signal.Observation) ([]any, error) {
	t, err := nanos(o.Time)
	if err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	start, err := nanos(o.Start)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	ev, err := strMap(o.Evidence)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return []any{t, start, o.Entity, string(o.Kind), o.Name,
		finite(o.Score), finite(o.Actual), finite(o.Expected), finite(o.Low), finite(o.High),
		o.Summary, ev}, nil
}

// Observations returns the matching observations, newest first. With IDs
// set and no Limit, every listed observation that matches is returned, not
// just the default 1000, because callers ask for an incident's whole list.
func (s *Store) Observations(ctx context.Context, q knowledge.ObservationQuery) ([]signal.Observation, error) {
	var w where
	if q.Entity != "" {
		w.add("entity = ?", q.Entity)
	}
	if len(q.Kinds) > 0 {
		ph := strings.Repeat(",?", len(q.Kinds))[1:]
		args := make([]any, len(q.Kinds))
		for i, k := range q.Kinds {
			args[i] = string(k)
		}
		w.add("kind IN ("+ph+")", args...)
	}
	w.timeRange("time", q.Since, q.Until)
	n := limit(q.Limit)
	if q.IDs != nil {
		// One JSON parameter instead of one per id: an incident's list can
		// pass SQLite's bound-parameter limit.
		b, err := json.Marshal(q.IDs)
		if err != nil {
			return nil, fmt.Errorf("querying observations: %w", err)
		}
		w.add("id IN (SELECT value FROM json_each(?))", string(b))
		if q.Limit <= 0 {
			n = max(len(q.IDs), 1)
		}
	}
	query := `SELECT id, time, start, entity, kind, name, score, actual, expected, low, high, summary, evidence
		FROM observations` + w.String() + ` ORDER BY time DESC, id DESC LIMIT ?`
	return queryAll(ctx, s.r, "observations", query, append(w.args, n), scanObservation)
}

func scanObservation(r scanner) (signal.Observation, error) {
	var (
		o                                  signal.Observation
		t, start                           sql.NullInt64
		kind                               string
		score, actual, expected, low, high sql.NullFloat64
		ev                                 sql.NullString
	)
	if err := r.Scan(&o.ID, &t, &start, &o.Entity, &kind, &o.Name,
		&score, &actual, &expected, &low, &high, &o.Summary, &ev); err != nil {
		return o, err
	}
	o.Time, o.Start, o.Kind = fromNanos(t), fromNanos(start), signal.ObsKind(kind)
	o.Score, o.Actual, o.Expected, o.Low, o.High = score.Float64, actual.Float64, expected.Float64, low.Float64, high.Float64
	var err error
	if o.Evidence, err = parseStrMap(ev); err != nil {
		return o, fmt.Errorf("the evidence of observation %d: %w", o.ID, err)
	}
	return o, nil
}
