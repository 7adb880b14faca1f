// Package remedy turns a diagnosed incident into remediation, safely.
//
// The Planner picks the runbook that fits the incident's top cause, renders
// its steps for the suspect and records every step in the audit trail
// before anything may run. The Manager builds on it: by the runbook's mode
// it only records the plan (dry-run, suggest), waits for an operator
// (approve; Approve and Reject), or runs it at once (auto). Every run goes
// through the Policy — one action at a time per target, a cooldown, a rate
// limit and a blast radius per service — and every step has a timeout
// after which it is killed and recorded as timed-out. After the actions,
// Tick verifies that the incident's symptoms cleared within the runbook's
// verify.within; when they did not, the run is escalated: recorded as
// failed, its on_failure steps run, the incident left open. Outcomes are
// kept as rules in the knowledge base, so that for a pattern (cause kind
// and entity kind) the runbook that worked is preferred next time.
//
// Secrets reach the steps from the environment through the runbooks'
// templates and are masked in everything stored, shown or logged,
// including the output of the steps.
package remedy
