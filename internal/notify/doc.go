// Package notify sends seer's incidents to the tools operators already
// watch: Alertmanager (through its v2 API, so that its routing, silences
// and inhibitions apply) and any HTTP endpoint that takes a JSON webhook.
//
// A Notifier never blocks its caller: Notify queues the incident on a
// bounded queue and returns; a worker sends it with a timeout and retries,
// and a full queue drops (and counts) rather than waits.
package notify
