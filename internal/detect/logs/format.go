package logs

import (
	"errors"
	"fmt"
	"strings"
)

// Format splits a log line's header from its message by a layout in the
// logparser benchmark's syntax: "<Date> <Time> <Level> \[<Component>\]:
// <Content>", where <Name> is a field, a run of spaces matches any run of
// white space, and the rest (with backslash escapes) is literal. The field
// named Content is the message. Each field ends where the literal after it
// first matches, as the benchmark's lazy regexp would; there is no
// backtracking.
type Format struct {
	names   []string
	lits    []literal // lits[i] precedes names[i]; lits[len(names)] ends the line
	content int
}

// literal is the constant text between two fields: parts of exact text and
// runs of white space, alternating.
type literal []litPart

type litPart struct {
	text  string
	space bool
}

// ErrFormat is wrapped by every error of ParseFormat.
var ErrFormat = errors.New("bad log format")

// ParseFormat compiles a header layout.
func ParseFormat(spec string) (*Format, error) {
	f := &Format{content: -1}
	var lit strings.Builder
	var cur literal
	flush := func() {
		if lit.Len() > 0 {
			cur = append(cur, litPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch {
		case c == '\\' && i+1 < len(spec):
			i++
			if spec[i] == 's' {
				flush()
				if len(cur) == 0 || !cur[len(cur)-1].space {
					cur = append(cur, litPart{space: true})
				}
				continue
			}
			lit.WriteByte(spec[i])
		case c == ' ' || c == '\t':
			flush()
			if len(cur) == 0 || !cur[len(cur)-1].space {
				cur = append(cur, litPart{space: true})
			}
		case c == '<':
			end := strings.IndexByte(spec[i:], '>')
			if end < 0 {
				return nil, fmt.Errorf("%w: unclosed < at byte %d of %q", ErrFormat, i, spec)
			}
			name := spec[i+1 : i+end]
			if name == "" || strings.ContainsAny(name, "< \t") {
				return nil, fmt.Errorf("%w: field name %q at byte %d: want <Name>", ErrFormat, name, i)
			}
			for _, n := range f.names {
				if n == name {
					return nil, fmt.Errorf("%w: field <%s> given twice", ErrFormat, name)
				}
			}
			flush()
			f.lits = append(f.lits, cur)
			cur = nil
			if name == "Content" {
				f.content = len(f.names)
			}
			f.names = append(f.names, name)
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	f.lits = append(f.lits, cur)
	if len(f.names) == 0 {
		return nil, fmt.Errorf("%w: %q has no <Field>", ErrFormat, spec)
	}
	if f.content < 0 {
		return nil, fmt.Errorf("%w: %q has no <Content> field", ErrFormat, spec)
	}
	return f, nil
}

// Names are the fields in order.
func (f *Format) Names() []string { return f.names }

// Content is the index of the message among the fields.
func (f *Format) Content() int { return f.content }

// Split fills dst with the line's fields in order of Names and reports
// whether the line fits the layout. The fields share memory with line.
func (f *Format) Split(line string, dst []string) ([]string, bool) {
	dst = dst[:0]
	pos, ok := f.lits[0].matchAt(line, 0)
	if !ok {
		return dst, false
	}
	last := len(f.names) - 1
	for i := range f.names {
		next := f.lits[i+1]
		if i == last {
			// The last field runs to the end, less the trailing literal.
			start, ok := next.suffixAt(line, pos)
			if !ok {
				return dst, false
			}
			dst = append(dst, line[pos:start])
			return dst, true
		}
		start, end, ok := next.find(line, pos)
		if !ok {
			return dst, false
		}
		dst = append(dst, line[pos:start])
		pos = end
	}
	return dst, true
}

// matchAt matches the literal at i and returns where it ends.
func (l literal) matchAt(s string, i int) (int, bool) {
	for _, p := range l {
		if p.space {
			j := i
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j == i {
				return 0, false
			}
			i = j
			continue
		}
		if !strings.HasPrefix(s[i:], p.text) {
			return 0, false
		}
		i += len(p.text)
	}
	return i, true
}

// find returns the first match of the literal at or after from.
func (l literal) find(s string, from int) (start, end int, ok bool) {
	if len(l) == 0 {
		return from, from, true
	}
	for i := from; i <= len(s); {
		// Jump to the next place the literal can begin.
		if p := l[0]; p.space {
			for i < len(s) && !isSpace(s[i]) {
				i++
			}
		} else {
			k := strings.Index(s[i:], p.text)
			if k < 0 {
				return 0, 0, false
			}
			i += k
		}
		if i >= len(s) {
			return 0, 0, false
		}
		if e, ok := l.matchAt(s, i); ok {
			return i, e, true
		}
		i++
	}
	return 0, 0, false
}

// suffixAt finds the literal ending the line, at or after from, and
// returns where it starts.
func (l literal) suffixAt(s string, from int) (int, bool) {
	if len(l) == 0 {
		return len(s), true
	}
	for i := from; i <= len(s); i++ {
		if e, ok := l.matchAt(s, i); ok && e == len(s) {
			return i, true
		}
	}
	return 0, false
}
