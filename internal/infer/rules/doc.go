// Package rules is seer's knowledge base of associations: which patterns
// (observation kinds, alarms, changes) point to which kind of root cause and
// which action fixed it. Mine learns rules with support, confidence and lift
// from past incidents; Apply matches rules, mined or written by hand, to a
// new incident and raises the causes they point to, saying which fired.
package rules
