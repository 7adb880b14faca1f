// Package probe checks the health of targets from the outside, as a
// blackbox exporter does: it sends an HTTP request to each target every
// interval and reports whether it answered well and how fast, as samples
// of the target's entity. A service that hangs, crashes or answers errors
// shows up here even when it reports nothing about itself.
package probe
