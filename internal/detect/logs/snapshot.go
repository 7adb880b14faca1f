package logs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// snapshotMagic starts every snapshot; the last byte is the format version.
const snapshotMagic = "SEERDRN\x01"

// ErrSnapshot is wrapped by every error of UnmarshalBinary.
var ErrSnapshot = errors.New("bad miner snapshot")

// MarshalBinary saves the miner's configuration, templates (with their ids,
// counts, places in the tree and recency) and counters.
func (m *Miner) MarshalBinary() ([]byte, error) {
	b := []byte(snapshotMagic)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(m.cfg.SimThreshold))
	keep := uint64(0)
	if m.cfg.KeepDigitTokens {
		keep = 1
	}
	for _, v := range []uint64{uint64(m.cfg.Depth), uint64(m.cfg.MaxChildren), uint64(m.cfg.MaxClusters), uint64(m.cfg.MaxTokens), keep, m.nextID,
		uint64(m.stats.Lines), uint64(m.stats.Empty), uint64(m.stats.Truncated), uint64(m.stats.InvalidUTF8), uint64(m.stats.Evicted),
		uint64(len(m.byID))} {
		b = binary.AppendUvarint(b, v)
	}
	// Oldest first, so that restoring in order rebuilds the recency ring.
	var path []string
	for c := m.lru.prev; c != &m.lru; c = c.prev {
		b = binary.AppendUvarint(b, c.id)
		b = binary.AppendUvarint(b, uint64(c.count))
		b = binary.AppendUvarint(b, uint64(len(c.toks)))
		for _, t := range c.toks {
			b = appendString(b, t.s)
		}
		path = path[:0]
		for n := c.leaf; n.parent != nil; n = n.parent {
			path = append(path, n.key)
		}
		b = binary.AppendUvarint(b, uint64(len(path)))
		for i := len(path) - 1; i >= 0; i-- {
			b = appendString(b, path[i])
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads a snapshot, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint(what string, max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("reading %s: truncated", what)
		return 0
	}
	d.b = d.b[n:]
	if v > max {
		d.fail("%s %d exceeds %d", what, v, max)
		return 0
	}
	return v
}

func (d *decoder) string(what string) string {
	n := d.uvarint(what, math.MaxUint32)
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("%s of %d bytes: truncated", what, n)
	}
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing the
// miner's state; on error the miner is left as it was.
func (m *Miner) UnmarshalBinary(data []byte) error {
	if len(data) < len(snapshotMagic)+8 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: not a seer miner snapshot (version %q expected)", ErrSnapshot, snapshotMagic)
	}
	d := &decoder{b: data[len(snapshotMagic):]}
	var cfg MinerConfig
	cfg.SimThreshold = math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	cfg.Depth = int(d.uvarint("depth", 16))
	cfg.MaxChildren = int(d.uvarint("max children", math.MaxInt32))
	cfg.MaxClusters = int(d.uvarint("max clusters", math.MaxInt32))
	cfg.MaxTokens = int(d.uvarint("max tokens", 1<<16))
	cfg.KeepDigitTokens = d.uvarint("keep digit tokens", 1) == 1
	nextID := d.uvarint("next id", math.MaxInt64)
	var st MinerStats
	st.Lines = int64(d.uvarint("lines", math.MaxInt64))
	st.Empty = int64(d.uvarint("empty", math.MaxInt64))
	st.Truncated = int64(d.uvarint("truncated", math.MaxInt64))
	st.InvalidUTF8 = int64(d.uvarint("invalid utf8", math.MaxInt64))
	st.Evicted = int64(d.uvarint("evicted", math.MaxInt64))
	// Every cluster takes at least four bytes, which bounds a hostile count.
	count := d.uvarint("templates", uint64(len(d.b)/4))
	if d.err != nil {
		return d.err
	}
	if nextID == 0 {
		return fmt.Errorf("%w: next id is zero", ErrSnapshot)
	}
	if err := cfg.Validate(); err != nil || cfg.Depth == 0 || cfg.MaxChildren == 0 || cfg.MaxClusters == 0 || cfg.MaxTokens == 0 || cfg.SimThreshold == 0 {
		return fmt.Errorf("%w: configuration out of range: %v", ErrSnapshot, err)
	}
	r := &Miner{cfg: cfg, rules: cfg.rules()}
	r.reset()
	r.nextID = nextID
	r.stats = st
	for i := uint64(0); i < count && d.err == nil; i++ {
		c := &cluster{}
		c.id = d.uvarint("template id", nextID-1)
		c.count = int64(d.uvarint("template count", math.MaxInt64))
		ntoks := int(d.uvarint("template tokens", uint64(cfg.MaxTokens)))
		if d.err == nil && ntoks == 0 {
			d.fail("template %d has no tokens", c.id)
		}
		c.toks = make([]ctok, 0, min(ntoks, len(d.b)))
		for j := 0; j < ntoks && d.err == nil; j++ {
			c.toks = append(c.toks, restoreTok(d.string("template token"), cfg.rules()))
		}
		depth := int(d.uvarint("template path", uint64(min(cfg.Depth, ntoks))))
		if d.err == nil && depth != min(cfg.Depth, ntoks) {
			d.fail("template %d has a path of %d keys, want %d", c.id, depth, min(cfg.Depth, ntoks))
		}
		n := r.root[ntoks]
		if d.err == nil && n == nil {
			n = &node{length: ntoks}
			r.root[ntoks] = n
		}
		for j := 0; j < depth && d.err == nil; j++ {
			key := d.string("path key")
			next := n.children[key]
			if next == nil {
				next = n.child(key)
			}
			n = next
		}
		if d.err != nil {
			break
		}
		if c.id == 0 || r.byID[c.id] != nil {
			d.fail("template id %d repeated or zero", c.id)
			break
		}
		c.retext()
		c.leaf = n
		n.clusters = append(n.clusters, c)
		r.byID[c.id] = c
		r.pushFront(c)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the last template", ErrSnapshot, len(d.b))
	}
	for len(r.byID) > r.cfg.MaxClusters {
		r.evict(r.lru.prev)
	}
	*m = *r
	// The ring's sentinel lives in the struct: point the ends at the copy.
	if len(m.byID) == 0 {
		m.lru.next, m.lru.prev = &m.lru, &m.lru
	} else {
		m.lru.next.prev = &m.lru
		m.lru.prev.next = &m.lru
	}
	return nil
}

// restoreTok rebuilds a template token from its text.
func restoreTok(s string, rules Rule) ctok {
	if strings.Contains(s, Wildcard) {
		return newCtok(s)
	}
	class, _, _ := maskToken(s, rules)
	return ctok{s: s, wild: -1, last: -1, soft: class == softTok}
}
