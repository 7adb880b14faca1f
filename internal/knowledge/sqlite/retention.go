package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// pruneBatch bounds the rows one statement deletes, so that pruning a
// large backlog never holds the writer for long.
const pruneBatch = 5000

// Prune deletes the observations and events older than before and the
// incidents resolved before it (with their runs), at most pruneBatch rows
// of each a call; it returns how many rows it deleted. Call it again while
// it returns pruneBatch or more to clear a backlog.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	t, err := nanos(before)
	if err != nil {
		return 0, fmt.Errorf("pruning: %w", err)
	}
	total := 0
	for _, q := range []string{
		`DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE time < ? LIMIT ?)`,
		`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? LIMIT ?)`,
		`DELETE FROM executions WHERE incident_id IN (SELECT id FROM incidents WHERE status = '` + string(signal.IncidentResolved) + `' AND updated < ? LIMIT ?)`,
		`DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE status = '` + string(signal.IncidentResolved) + `' AND updated < ? LIMIT ?)`,
	} {
		res, err := s.w.ExecContext(ctx, q, t, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("pruning: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}
