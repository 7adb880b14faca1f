// Package correlate groups observations into incidents: an observation joins
// an open incident when it is close in time to the incident's newest
// observation and its entity is related on the call graph to the incident's
// entities; otherwise it waits, and opens an incident of its own once enough
// related evidence has gathered. Incidents resolve when no observation joins
// for a while and reopen when the problem comes back soon after.
//
// The correlator keeps no clock: time comes from the observations and from
// the now given to Tick.
package correlate
