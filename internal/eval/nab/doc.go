// Package nab scores streaming anomaly detectors with the Numenta Anomaly
// Benchmark's own metric, so that seer's numbers can be set beside the
// published scoreboard, and runs a detector causally over the NAB corpus.
//
// The scorer follows NAB's published method (nab/sweeper.py and the runner's
// normalisation): the first 15% of every file (at most 750 rows) is a
// probationary period that is not scored; inside a labelled window only the
// earliest detection counts, weighted by the scaled sigmoid of its position
// relative to the window's end (1 at the window's first row, near 0 at its
// last); a window without a detection costs the profile's FN weight; every
// detection outside a window costs the profile's FP weight times the scaled
// sigmoid of its distance after the preceding window (the full weight before
// any window). One threshold is chosen for the whole corpus per profile, the
// one that maximises the summed score, and the sum is normalised so that the
// null detector (which detects nothing) scores 0 and the perfect detector
// (the first row of every window) scores 100.
//
// Seer's detector is run through an Alerter, which turns its per-point
// scores into one alert per anomaly as NAB's scorer wants (records,
// habits, repeat discounts); production reads none of that. CrossValidate
// chooses that alerting's setting and the threshold on one half of the
// files and scores the other: the figure that is not fitted to the files.
package nab
