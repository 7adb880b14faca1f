// Package ui is seer's web UI: the files npm builds from ui/ (make ui) into
// dist/, embedded in the binary so that seer serves them with no outside
// service, font or CDN. The sources and their lock file are in ui/; the
// built files are committed, so that building seer needs only Go.
package ui
