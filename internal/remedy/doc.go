// Package remedy turns a diagnosed incident into remediation: it picks the
// runbook that fits the incident's top cause, renders its steps for the
// suspect, and records every step in the audit trail before anything may
// run. For now it only plans (dry-run, suggest, approve); executing the
// steps and verifying their effect come later, and will read the same
// audit records.
package remedy
