package loghub

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// MixFormat is the header layout of the lines Mix writes, for
// `seer logs parse --format`.
const MixFormat = "<Date> <Time> <Level> <Component>: <Content>"

// MixStats describes a file Mix wrote.
type MixStats struct {
	Lines int `json:"lines"`
	Bytes int `json:"bytes"`
	// Templates is the number of distinct true templates among the lines,
	// a template of one dataset never counted as one of another.
	Templates int `json:"templates"`
	// Unaligned counts lines whose message did not fit its true template
	// and was written as it is.
	Unaligned int `json:"unaligned"`
}

// Mix writes n lines drawn from the datasets into w, a realistic large
// input for the miner: each line picks a dataset at random and takes that
// dataset's next message (so each set keeps its own order, cycling), with
// the digits inside its variables (the text at its true template's
// wildcards) drawn again, so that a long file is not a repetition of the
// samples. A digit is redrawn no larger than it was, which keeps numbers
// valid as addresses, times and ports. Each line gets a header in
// MixFormat, its component the dataset's name. The same seed writes the
// same file.
func Mix(w io.Writer, sets []Dataset, n int, seed uint64) (MixStats, error) {
	var st MixStats
	mx := newMixer(sets, seed)
	if mx == nil {
		return st, ErrNoData
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	seen := make(map[string]struct{})
	var line []byte
	for range n {
		var key string
		var ok bool
		line, key, ok = mx.next(line[:0])
		if !ok {
			st.Unaligned++
		}
		seen[key] = struct{}{}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return st, fmt.Errorf("writing the mix: %w", err)
		}
		st.Lines++
		st.Bytes += len(line)
	}
	st.Templates = len(seen)
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("writing the mix: %w", err)
	}
	return st, nil
}

// MixLines returns the lines Mix would write, without their newlines, and
// beside each its true template prefixed by its dataset's name and a NUL.
func MixLines(sets []Dataset, n int, seed uint64) (lines, truth []string) {
	mx := newMixer(sets, seed)
	if mx == nil {
		return nil, nil
	}
	lines, truth = make([]string, n), make([]string, n)
	var b []byte
	for i := range n {
		b, truth[i], _ = mx.next(b[:0])
		lines[i] = string(b)
	}
	return lines, truth
}

// mixer draws the lines of Mix.
type mixer struct {
	sets []Dataset
	rng  *rand.Rand
	pos  []int
	at   time.Time
}

// newMixer returns a mixer of the sets that have messages, nil when none
// has.
func newMixer(sets []Dataset, seed uint64) *mixer {
	var some []Dataset
	for _, ds := range sets {
		if len(ds.Contents) > 0 && len(ds.Templates) == len(ds.Contents) {
			some = append(some, ds)
		}
	}
	if len(some) == 0 {
		return nil
	}
	return &mixer{
		sets: some,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		pos:  make([]int, len(some)),
		at:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

var mixLevels = [...]string{"INFO", "INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"}

// next appends one line to b and returns it with its true template's key;
// ok is false when the message was written unchanged, not aligned with
// its template.
func (m *mixer) next(b []byte) (line []byte, key string, ok bool) {
	k := m.rng.IntN(len(m.sets))
	ds := &m.sets[k]
	i := m.pos[k] % len(ds.Contents)
	m.pos[k]++
	m.at = m.at.Add(time.Duration(m.rng.IntN(5000)) * time.Microsecond)
	b = m.at.AppendFormat(b, "2006-01-02 15:04:05.000")
	b = append(b, ' ')
	b = append(b, mixLevels[m.rng.IntN(len(mixLevels))]...)
	b = append(b, ' ')
	b = append(b, ds.Name...)
	b = append(b, ": "...)
	b, ok = appendRedrawn(b, ds.Contents[i], ds.Templates[i], m.rng)
	return b, ds.Name + "\x00" + ds.Templates[i], ok
}

// appendRedrawn appends msg with the digits at the wildcards of its
// template drawn again, or msg as it is (and false) when the template's
// constant parts do not line up with it.
func appendRedrawn(b []byte, msg, tmpl string, rng *rand.Rand) ([]byte, bool) {
	spans, ok := align(msg, tmpl)
	if !ok {
		return append(b, msg...), false
	}
	pos := 0
	for _, s := range spans {
		b = append(b, msg[pos:s[0]]...)
		for j := s[0]; j < s[1]; j++ {
			c := msg[j]
			if c >= '1' && c <= '9' {
				// No larger, and no new leading zero.
				lead := j == s[0] || msg[j-1] < '0' || msg[j-1] > '9'
				lo := 0
				if lead {
					lo = 1
				}
				c = byte('0' + lo + rng.IntN(int(c-'0')-lo+1))
			}
			b = append(b, c)
		}
		pos = s[1]
	}
	return append(b, msg[pos:]...), true
}

// align returns the byte spans of msg at the wildcards of tmpl, each
// wildcard taking the shortest text after which the next constant part
// follows, the last constant part ending the message.
func align(msg, tmpl string) ([][2]int, bool) {
	parts := strings.Split(tmpl, wild)
	if len(parts) == 1 {
		return nil, msg == tmpl
	}
	if !strings.HasPrefix(msg, parts[0]) {
		return nil, false
	}
	pos := len(parts[0])
	spans := make([][2]int, 0, len(parts)-1)
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			if !strings.HasSuffix(msg[pos:], p) {
				return nil, false
			}
			spans = append(spans, [2]int{pos, len(msg) - len(p)})
			return spans, true
		}
		k := strings.Index(msg[pos:], p)
		if p == "" {
			k = 0
		}
		if k < 0 {
			return nil, false
		}
		spans = append(spans, [2]int{pos, pos + k})
		pos += k + len(p)
	}
	return spans, true
}
