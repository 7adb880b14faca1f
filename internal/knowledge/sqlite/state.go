package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// State returns the named document, or nil and no error when none was
// saved: small pieces of state that must survive a crash (the remediation
// policy's cooldowns, rates and leases).
func (s *Store) State(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state %q: %w", key, err)
	}
	return v, nil
}

// PutState saves the named document, replacing the last; it is committed
// when PutState returns.
func (s *Store) PutState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO state (key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, value, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("saving state %q: %w", key, err)
	}
	return nil
}
