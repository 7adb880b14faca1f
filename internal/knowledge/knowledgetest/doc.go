// Package knowledgetest checks that a knowledge.Store keeps the contract the
// engine relies on, so that every implementation (the embedded SQLite one,
// a PostgreSQL one) is held to the same behaviour by the same tests.
//
// Beyond what the knowledge.Store comments say, the suite holds a store to:
//   - times come back in UTC, equal (time.Time.Equal) to those stored to the
//     nanosecond, and the zero time comes back zero;
//   - non-finite floats (NaN, ±Inf) in observations, rules and causes are
//     stored without error and read back as 0, because records are served as
//     JSON, which cannot carry them;
//   - queries return newest first (observations and events by Time,
//     incidents by Updated), cap at 1000 by default, and treat Since as
//     inclusive and Until as exclusive;
//   - an ObservationQuery whose IDs is non-nil returns only those (none when
//     it is empty), ANDed with the other fields, and without the default cap;
//   - PutIncident, PutRule and AddExecution given an ID the store does not
//     hold fail with knowledge.ErrNotFound, as do Incident and DeleteRule;
//   - rules and executions list in the order first stored, and ids are not
//     reused after a delete;
//   - the store is safe for concurrent use.
package knowledgetest
