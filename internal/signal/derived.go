package signal

// The series seer derives from traces and logs for its investigations. The
// stage that sees the signal makes them (the trace stage from the traces it
// assembles, inference from log records); their meaning is declared in the
// semantics table like any other name.
const (
	// SeriesSelfTime is the mean time a service's server spans spent in the
	// service itself (duration less the union of its children's), seconds.
	SeriesSelfTime = "seer_trace_self_time_seconds"
	// SeriesServerDuration is the median duration of a service's server
	// spans, in seconds.
	SeriesServerDuration = "seer_trace_server_duration_seconds"
	// SeriesCallGap is, per call edge (label caller), the median time
	// between the caller's span and the callee's server span under it, in
	// seconds: the network and queueing in front of the callee. Its entity
	// is the callee.
	SeriesCallGap = "seer_trace_call_gap_seconds"
	// SeriesClientDuration is, per callee that wrote no span of its own (an
	// external, or a span that was not kept), the median duration of its
	// callers' client spans, in seconds. Its entity is the callee.
	SeriesClientDuration = "seer_trace_client_duration_seconds"
	// SeriesErrorOrigin is the share of a service's spans that failed
	// without a failed child: errors that began there (a call to a peer
	// that left no span and failed counts for the peer).
	SeriesErrorOrigin = "seer_trace_error_origin_ratio"
	// SeriesSpanRate is a service's server spans per second.
	SeriesSpanRate = "seer_trace_requests_rate"
	// SeriesFanOut is a service's outgoing calls per server span: a code
	// path failing early stops calling its dependencies.
	SeriesFanOut = "seer_trace_fanout_calls"
	// SeriesLogErrors is a service's error-level log lines per second.
	SeriesLogErrors = "seer_log_error_lines_rate"
)

// IsDerived tells whether a series name is one seer derives (see the
// Series* names).
func IsDerived(name string) bool {
	switch name {
	case SeriesSelfTime, SeriesServerDuration, SeriesCallGap, SeriesClientDuration, SeriesErrorOrigin, SeriesSpanRate, SeriesFanOut, SeriesLogErrors:
		return true
	}
	return false
}
