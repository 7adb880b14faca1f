package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/seerops/seer/internal/knowledge"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var _ knowledge.Store = (*Store)(nil)

// busyTimeoutMS bounds how long a connection waits on another one's lock
// (a checkpoint, another process) before it reports SQLITE_BUSY.
const busyTimeoutMS = 10000

// Store is a knowledge.Store in one SQLite file; it is safe for concurrent use.
type Store struct {
	w   *sql.DB // the one writer connection
	r   *sql.DB // the read-only pool
	log *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if need be) the database file at path and its
// directory, and brings its schema up to date.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "knowledge.sqlite")
	if path == "" {
		return nil, errors.New("opening the knowledge store: no database path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening the knowledge store %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("creating the knowledge store's directory: %w", err)
	}

	s := &Store{log: logger}
	// BEGIN IMMEDIATE: the writer takes the write lock when a transaction
	// starts, not midway, so another process cannot make it fail late.
	s.w, err = sql.Open("sqlite", dsn(abs,
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("opening the knowledge store %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("opening the knowledge store %s: %w", abs, err)
	}
	if !strings.EqualFold(mode, "wal") {
		// Some file systems (network mounts) cannot do WAL; the store still
		// works, but readers then wait for the writer.
		logger.Warn("WAL journal mode unavailable; reads will block on writes", "path", abs, "journal_mode", mode)
	}
	from, to, err := s.migrate(ctx)
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("opening the knowledge store %s: %w", abs, err)
	}

	// The readers are opened after the migration so they never see a
	// half-made schema, and query_only keeps a stray write off them.
	s.r, err = sql.Open("sqlite", dsn(abs,
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)"))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("opening the knowledge store %s for reading: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening the knowledge store %s for reading: %w", abs, err)
	}
	logger.Info("knowledge store open", "path", abs, "journal_mode", mode, "schema_from", from, "schema", to)
	return s, nil
}

// dsn is a file: URI, so that any character in the path is escaped rather
// than taken for the start of the parameters.
func dsn(path string, params ...string) string {
	params = append(params, fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMS))
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: strings.Join(params, "&")}
	return u.String()
}

// Close closes the database; it is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		// The writer closes last: the last connection to close checkpoints
		// the WAL into the main file.
		errs = append(errs, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("closing the knowledge store: %w", err)
		}
	})
	return s.closeErr
}

// write runs fn in a transaction on the writer connection.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback() //nolint:errcheck // the first error is the one to report
		return err
	}
	return tx.Commit()
}

// update runs one UPDATE on the writer and reports ErrNotFound when it
// touched no row.
func (s *Store) update(ctx context.Context, what string, id int64, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}

// insert runs one INSERT on the writer and returns the new row's id.
func (s *Store) insert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query on the read pool and scans every row; what names
// the records in errors.
func queryAll[T any](ctx context.Context, db *sql.DB, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return out, nil
}
