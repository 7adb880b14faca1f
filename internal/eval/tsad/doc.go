// Package tsad runs a streaming entity detector over multivariate server
// metrics with point labels (the layout of shared/data/tsad: ASD and SMD)
// and scores it point-wise, without point adjustment: per entity the best
// F1 over every threshold and the F1 at the detector's fixed production
// threshold, then the mean over each set's entities.
//
// The protocol is the benchmark's README's: each entity is fed its train
// rows and then its test rows, one row (every metric of one timestamp) at a
// time, and a test row's score is taken before the next row is seen. One
// configuration serves every entity and every set.
package tsad
