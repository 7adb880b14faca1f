// Package rca ranks the root-cause candidates of one incident. It scores every
// entity named by the incident's observations on four kinds of evidence: its
// own localised symptoms (trace self time, errors originating in it, its
// resources), when its anomalies began, where it sits on the call graph
// relative to the other anomalous entities (faults propagate from callee to
// caller, traffic from caller to callee), and the changes made to it shortly
// before the onset. Every cause carries the sentences an operator can check.
//
// Ranking is a pure function of its input: no clock, no state, the same
// input always gives the same ranking.
package rca
