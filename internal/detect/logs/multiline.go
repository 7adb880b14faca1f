package logs

import (
	"fmt"
	"regexp"
	"strings"
)

// Continuation says which lines of a source continue the record before
// them rather than start one, so that a stack trace is one record with
// its message: "at com.x.Y.z(Y.java:10)" lines join the exception above
// them. It is set per source, by ParseContinuation.
type Continuation struct {
	mode   int
	format *Format
	start  *regexp.Regexp
}

// The kinds of continuation rule.
const (
	contIndent = iota + 1
	contUnformatted
	contStart
)

// ContinuationHelp describes the rules ParseContinuation accepts.
const ContinuationHelp = `"indent" (a line that starts with white space continues the record), ` +
	`"unformatted" (a line that does not fit the header format continues it), ` +
	`or "start=REGEXP" (a record starts with a line REGEXP matches; any other line continues it)`

// ParseContinuation compiles a continuation rule: "" (none: every line is
// a record, and the result is nil), "indent", "unformatted" (which needs
// the source's header format f) or "start=REGEXP". See ContinuationHelp.
func ParseContinuation(spec string, f *Format) (*Continuation, error) {
	switch {
	case spec == "":
		return nil, nil
	case spec == "indent":
		return &Continuation{mode: contIndent}, nil
	case spec == "unformatted":
		if f == nil {
			return nil, fmt.Errorf("multiline %q: needs a header format", spec)
		}
		return &Continuation{mode: contUnformatted, format: f}, nil
	case strings.HasPrefix(spec, "start="):
		re, err := regexp.Compile(spec[len("start="):])
		if err != nil {
			return nil, fmt.Errorf("multiline %q: %w", spec, err)
		}
		return &Continuation{mode: contStart, start: re}, nil
	}
	return nil, fmt.Errorf("multiline %q: want %s", spec, ContinuationHelp)
}

// Continues reports whether line continues the record before it. A blank
// line never does.
func (c *Continuation) Continues(line string, scratch []string) (bool, []string) {
	if strings.TrimSpace(line) == "" {
		return false, scratch
	}
	switch c.mode {
	case contIndent:
		return line[0] == ' ' || line[0] == '\t', scratch
	case contUnformatted:
		var ok bool
		scratch, ok = c.format.Split(strings.TrimSpace(line), scratch)
		return !ok, scratch
	case contStart:
		return !c.start.MatchString(line), scratch
	}
	return false, scratch
}

// Joiner gathers lines into records by a continuation rule. Records are
// cut at MaxRecordLines lines or MaxRecordBytes bytes.
type Joiner struct {
	cont    *Continuation
	rec     []byte
	lines   int
	scratch []string
}

// Bounds of a joined record; past them a line starts another.
const (
	MaxRecordLines = 1000
	MaxRecordBytes = 1 << 20
)

// NewJoiner returns a Joiner by the rule c, which must not be nil.
func NewJoiner(c *Continuation) *Joiner { return &Joiner{cont: c} }

// Add takes the next line and reports whether it joined the record before
// it. When it starts a record instead, the record gathered so far goes to
// emit first, its bytes valid until emit returns. A blank line is a record
// of its own.
func (j *Joiner) Add(line string, emit func(rec []byte)) (joined bool) {
	if j.lines > 0 {
		var cont bool
		cont, j.scratch = j.cont.Continues(line, j.scratch)
		if cont && j.lines < MaxRecordLines && len(j.rec)+len(line) < MaxRecordBytes {
			j.rec = append(j.rec, '\n')
			j.rec = append(j.rec, line...)
			j.lines++
			return true
		}
		emit(j.rec)
	}
	j.rec = append(j.rec[:0], line...)
	j.lines = 1
	return false
}

// Flush hands the record gathered so far, if any, to emit.
func (j *Joiner) Flush(emit func(rec []byte)) {
	if j.lines > 0 {
		j.lines = 0
		emit(j.rec)
	}
}
