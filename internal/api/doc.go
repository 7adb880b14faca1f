// Package api is seer's HTTP interface: the health and readiness probes, the
// Prometheus /metrics endpoint, read access to incidents, observations and the
// discovered service graph, and intake of change events and alarms.
//
// Everything under /api/v1 speaks JSON. Bad input is answered with a 4xx and
// a body {"error": "..."} that says what is wrong and how to fix it, and is
// counted in seer_api_rejected_total{route,reason}, so that an operator can
// see a misconfigured sender from seer's own metrics. The package declares
// the small Store it reads from; the engine wires in the knowledge store and
// owns the http.Server.
package api
