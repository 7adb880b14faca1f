// Package loghub scores log template miners on the Loghub-2k benchmark: it
// reads each dataset's structured, corrected ground truth, has a parser
// template every message in order, and reports the grouping accuracy (GA),
// parsing accuracy (PA) and the F1 of grouping (FGA) and of templates (FTA)
// as Loghub 2.0 defines them.
package loghub
