package sqlite

import (
	"context"
	"fmt"
)

// migrations bring the schema from version i to i+1. Append new ones; never
// edit one that has shipped, since files in the field have already run it.
var migrations = [][]string{
	// 1: the first schema.
	{
		`CREATE TABLE observations (
			id       INTEGER PRIMARY KEY,
			time     INTEGER,
			start    INTEGER,
			entity   TEXT NOT NULL,
			kind     TEXT NOT NULL,
			name     TEXT NOT NULL,
			score    REAL,
			actual   REAL,
			expected REAL,
			low      REAL,
			high     REAL,
			summary  TEXT NOT NULL,
			evidence TEXT
		) STRICT`,
		`CREATE INDEX observations_entity_time ON observations (entity, time)`,
		`CREATE INDEX observations_time ON observations (time)`,
		`CREATE TABLE events (
			id     INTEGER PRIMARY KEY,
			time   INTEGER,
			entity TEXT NOT NULL,
			kind   TEXT NOT NULL,
			text   TEXT NOT NULL,
			source TEXT NOT NULL,
			attrs  TEXT
		) STRICT`,
		`CREATE INDEX events_entity_time ON events (entity, time)`,
		`CREATE INDEX events_time ON events (time)`,
		// AUTOINCREMENT on the low-volume tables: an id, once handed out,
		// is never handed out again even after a delete, so references to
		// it elsewhere cannot come to mean something else.
		`CREATE TABLE incidents (
			id      INTEGER PRIMARY KEY AUTOINCREMENT,
			status  TEXT NOT NULL,
			opened  INTEGER,
			updated INTEGER,
			onset   INTEGER,
			title   TEXT NOT NULL,
			doc     TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX incidents_status_updated ON incidents (status, updated)`,
		`CREATE INDEX incidents_updated ON incidents (updated)`,
		`CREATE TABLE rules (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			patterns   TEXT NOT NULL,
			cause      TEXT NOT NULL,
			action     TEXT NOT NULL,
			support    REAL,
			confidence REAL,
			lift       REAL,
			origin     TEXT NOT NULL
		) STRICT`,
		// No foreign key to incidents: dry-runs and tests record executions
		// for incidents that were never stored, and the audit record must
		// outlive any incident clean-up.
		`CREATE TABLE executions (
			id           INTEGER PRIMARY KEY AUTOINCREMENT,
			incident_id  INTEGER NOT NULL,
			runbook      TEXT NOT NULL,
			step         TEXT NOT NULL,
			target       TEXT NOT NULL,
			mode         TEXT NOT NULL,
			triggered_by TEXT NOT NULL,
			status       TEXT NOT NULL,
			input        TEXT NOT NULL,
			output       TEXT NOT NULL,
			started      INTEGER,
			ended        INTEGER
		) STRICT`,
		`CREATE INDEX executions_incident ON executions (incident_id)`,
	},
	// 2: what a restart needs to reconcile remediation: the process group
	// of a running step, the runs still marked running, and small named
	// documents (the remediation policy's cooldowns, rates and leases).
	{
		`ALTER TABLE executions ADD COLUMN pgid INTEGER NOT NULL DEFAULT 0`,
		`CREATE INDEX executions_status ON executions (status)`,
		`CREATE TABLE state (
			key     TEXT PRIMARY KEY,
			value   BLOB NOT NULL,
			updated INTEGER NOT NULL
		) STRICT`,
	},
}

// migrate applies the migrations the file has not seen, each with its
// version bump in one transaction so a crash leaves a consistent version.
func (s *Store) migrate(ctx context.Context) (from, to int, err error) {
	if err := s.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("reading the schema version: %w", err)
	}
	if from > len(migrations) {
		return from, from, fmt.Errorf("the database has schema version %d but this seer knows only up to %d; use a newer seer", from, len(migrations))
	}
	for v := from; v < len(migrations); v++ {
		if err := s.apply(ctx, v); err != nil {
			return from, v, fmt.Errorf("migrating the schema to version %d: %w", v+1, err)
		}
	}
	return from, len(migrations), nil
}

func (s *Store) apply(ctx context.Context, v int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, stmt := range migrations[v] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	// PRAGMA takes no bound parameters; v+1 is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
		return err
	}
	return tx.Commit()
}
