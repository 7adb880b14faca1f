package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/seerops/seer/internal/knowledge"
)

// defaultLimit is the result cap when a query gives none.
const defaultLimit = 1000

// The times an int64 of unix nanoseconds can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos is t as a column value: NULL for the zero time, else UTC unix
// nanoseconds.
func nanos(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("time %s is outside the storable range (years 1678 to 2262)", t.UTC().Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// fromNanos is the inverse of nanos.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// finite is f as a column value: NULL when f is NaN or infinite.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// zeroNonFinite is f, or 0 when f is NaN or infinite, for values kept
// inside JSON documents, which cannot hold them.
func zeroNonFinite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// strMap is m as a JSON column value, NULL when empty.
func strMap(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// parseStrMap is the inverse of strMap.
func parseStrMap(s sql.NullString) (map[string]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// limit is the query's limit with the store default for zero and below.
func limit(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return n
}

// notFound wraps knowledge.ErrNotFound with what was looked for.
func notFound(what string, id int64) error {
	return fmt.Errorf("%s %d: %w", what, id, knowledge.ErrNotFound)
}

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// timeRange adds since <= col < until, leaving out zero bounds. Bounds
// beyond the storable range are clamped, since every stored time is inside it.
func (w *where) timeRange(col string, since, until time.Time) {
	if !since.IsZero() && !since.Before(minTime) {
		w.add(col+" >= ?", clampNanos(since))
	}
	if !until.IsZero() && !until.After(maxTime) {
		w.add(col+" < ?", clampNanos(until))
	}
}

// clampNanos is t in unix nanoseconds, clamped to what int64 can hold.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	s := " WHERE " + w.conds[0]
	for _, c := range w.conds[1:] {
		s += " AND " + c
	}
	return s
}
