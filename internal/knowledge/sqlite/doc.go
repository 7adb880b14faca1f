// Package sqlite is seer's embedded knowledge repository: a knowledge.Store
// kept in one SQLite file under the data directory, so that a single seer
// process needs no outside database and its knowledge survives a restart.
//
// It uses modernc.org/sqlite (pure Go, no cgo) in WAL mode. Writes go
// through one connection, so they are serialised without SQLITE_BUSY
// retries; reads use a separate pool of read-only connections and run
// concurrently with each other and with the writer.
//
// Times are stored as UTC unix nanoseconds (INTEGER) and come back as UTC
// time.Time values equal to those stored; the zero time is stored as NULL and
// comes back zero. Times outside what int64 nanoseconds can hold (before 1678
// or after 2262) are refused with an error.
//
// Non-finite floats (NaN, ±Inf) in observations, rules and causes are stored
// as NULL and read back as 0: SQLite turns NaN into NULL anyway, and the API
// serves these records as JSON, which cannot carry non-finite numbers.
//
// The schema is versioned with PRAGMA user_version; Open applies the
// migrations a file has not seen yet, in order, each in its own transaction.
package sqlite
