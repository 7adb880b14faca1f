// Package rca evaluates seer's root-cause ranking on cases (see
// internal/eval/cases): it diagnoses every case through seer's production
// inference and scores the rankings by AC@k and Avg@5, per set, with the
// time to diagnosis and the gain from operator feedback.
//
// Cases with traces or logs are replayed through the whole engine (the
// detectors, correlation and ranking); metric-only cases are diagnosed by
// the inference's alarm-driven path (infer.Inferrer.Diagnose) on the recent
// metric window at the case's onset, the way an outside alarm asks seer.
package rca
