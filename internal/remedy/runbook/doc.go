// Package runbook reads, validates, matches and renders runbooks: the YAML
// files that say which diagnostics and remediation steps fit which root
// cause.
//
// A runbook is checked completely when it is loaded (its `when` expression
// is compiled and type-checked, its templates are parsed and tried on a
// sample incident) so that a mistake surfaces as `file:line: reason` at
// start-up or in `seer runbook check`, never in the middle of an incident.
// Rendering a runbook for an incident yields a Plan of concrete steps; the
// package runs nothing itself, executors switch on Step.Kind.
package runbook
