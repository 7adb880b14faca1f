// Package guard holds the limits every ingest receiver shares: a cap on the
// body size (decoded, so a gzip bomb is caught too), per-source rate limiting,
// a bound on requests in flight beyond which load is shed rather than queued,
// and the Prometheus counters of what was received, accepted and rejected.
//
// A receiver admits a request, reads its body through the guard, decodes it,
// and reports the outcome; the guard never holds more than MaxInFlight bodies
// of at most MaxBodyBytes, so memory stays bounded whatever clients send.
package guard
