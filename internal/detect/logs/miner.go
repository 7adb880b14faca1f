package logs

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Match is what the miner made of one line.
type Match struct {
	// ID is the template's id; 0 when the line was empty.
	ID uint64
	// Template is the template's text after the line joined it.
	Template string
	// Params are the line's text at the template's wildcards, in order.
	// They share memory with the line.
	Params []string
	// New is set when the line started a new template.
	New bool
}

// Template is one mined template.
type Template struct {
	ID    uint64 `json:"id"`
	Text  string `json:"template"`
	Count int64  `json:"count"`
}

// MinerStats counts the lines a miner has seen, and the odd ones.
type MinerStats struct {
	Lines       int64 `json:"lines"`
	Empty       int64 `json:"empty"`
	Truncated   int64 `json:"truncated"`
	InvalidUTF8 int64 `json:"invalid_utf8"`
	Evicted     int64 `json:"evicted"`
}

// Miner is an online Drain-family template miner: lines are routed through a
// fixed-depth prefix tree keyed by their token count and leading tokens to a
// short list of templates, join the most similar one when it is similar
// enough and generalise it, or else start a new one. A template keeps its id
// as it is generalised. A Miner is not safe for concurrent use.
type Miner struct {
	cfg      MinerConfig
	digitIDs bool
	root     map[int]*node
	byID     map[uint64]*cluster
	nextID   uint64
	// lru is the sentinel of the ring of clusters, most recently matched
	// first.
	lru   cluster
	toks  []token
	stats MinerStats
}

// node is a prefix tree node; a leaf holds the clusters.
type node struct {
	parent   *node
	key      string
	length   int
	children map[string]*node
	clusters []*cluster
}

// cluster is one template and its bookkeeping.
type cluster struct {
	id         uint64
	toks       []string
	text       string
	nparams    int
	count      int64
	leaf       *node
	prev, next *cluster
}

// token is one whitespace-separated token of a line. When masked, the
// bytes s[pre:len(s)-suf] are the variable part.
type token struct {
	s        string
	pre, suf int32
	masked   bool
}

func (t token) key() string {
	if t.masked {
		return Wildcard
	}
	return t.s
}

func (t token) core() string { return t.s[t.pre : int32(len(t.s))-t.suf] }

func (t token) appendTemplate(b []byte) []byte {
	if !t.masked {
		return append(b, t.s...)
	}
	b = append(b, t.s[:t.pre]...)
	b = append(b, Wildcard...)
	return append(b, t.s[int32(len(t.s))-t.suf:]...)
}

// eq reports whether template token p reads the same as t.
func (t token) eq(p string) bool {
	if !t.masked {
		return p == t.s
	}
	pre, suf := int(t.pre), int(t.suf)
	return len(p) == pre+len(Wildcard)+suf &&
		p[:pre] == t.s[:pre] &&
		p[pre:pre+len(Wildcard)] == Wildcard &&
		p[pre+len(Wildcard):] == t.s[len(t.s)-suf:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// tokenize splits line at white space into buf and masks each token. Past
// max-1 tokens the rest of the line becomes one variable token, so that a
// huge line costs no more than max tokens.
func tokenize(line string, buf []token, max int, digitIDs bool) ([]token, bool) {
	buf = buf[:0]
	i, n := 0, len(line)
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return buf, false
		}
		if len(buf) == max-1 {
			j := n
			for j > i && isSpace(line[j-1]) {
				j--
			}
			rest := line[i:j]
			for k := 0; k < len(rest); k++ {
				if isSpace(rest[k]) {
					return append(buf, token{s: rest, masked: true}), true
				}
			}
			// Only one token is left: it is an ordinary one.
		}
		j := i
		for j < n && !isSpace(line[j]) {
			j++
		}
		t := token{s: line[i:j]}
		masked, pre, suf := maskToken(t.s, digitIDs)
		t.masked, t.pre, t.suf = masked, int32(pre), int32(suf)
		buf = append(buf, t)
		i = j
	}
}

// NewMiner returns an empty miner. Fields of cfg out of range take their
// defaults; call cfg.Validate first to reject them instead.
func NewMiner(cfg MinerConfig) *Miner {
	cfg = cfg.withDefaults()
	if cfg.Validate() != nil {
		cfg = MinerConfig{KeepDigitTokens: cfg.KeepDigitTokens}.withDefaults()
	}
	m := &Miner{cfg: cfg, digitIDs: !cfg.KeepDigitTokens}
	m.reset()
	return m
}

func (m *Miner) reset() {
	m.root = make(map[int]*node)
	m.byID = make(map[uint64]*cluster)
	m.nextID = 1
	m.lru.next, m.lru.prev = &m.lru, &m.lru
	m.stats = MinerStats{}
}

// Stats returns the line counts so far.
func (m *Miner) Stats() MinerStats { return m.stats }

// Len is the number of templates held.
func (m *Miner) Len() int { return len(m.byID) }

// Add mines one line: it finds or makes the line's template and returns it
// with the line's parameters. An empty or blank line is counted and gets
// the zero Match.
func (m *Miner) Add(line string) Match { return m.AddInto(line, nil) }

// AddInto is Add with the parameters appended to params[:0], so that a
// caller mining a stream can reuse one slice and allocate nothing per line.
func (m *Miner) AddInto(line string, params []string) Match {
	m.stats.Lines++
	if !utf8.ValidString(line) {
		m.stats.InvalidUTF8++
	}
	toks, truncated := tokenize(line, m.toks, m.cfg.MaxTokens, m.digitIDs)
	m.toks = toks
	if truncated {
		m.stats.Truncated++
	}
	if len(toks) == 0 {
		m.stats.Empty++
		return Match{}
	}
	c := m.search(toks)
	isNew := c == nil
	if isNew {
		c = m.create(toks)
	} else {
		m.merge(c, toks)
		m.unlink(c)
	}
	c.count++
	m.pushFront(c)
	if len(m.byID) > m.cfg.MaxClusters {
		m.evict(m.lru.prev)
	}
	return Match{ID: c.id, Template: c.text, Params: appendParams(params[:0], c, toks), New: isNew}
}

func appendParams(ps []string, c *cluster, toks []token) []string {
	if c.nparams == 0 {
		return ps
	}
	if ps == nil {
		ps = make([]string, 0, c.nparams)
	}
	for i, p := range c.toks {
		if p == Wildcard {
			ps = append(ps, toks[i].s)
		} else if toks[i].masked && strings.Contains(p, Wildcard) {
			ps = append(ps, toks[i].core())
		}
	}
	return ps
}

// search walks the tree to the line's leaf and returns its most similar
// cluster, or nil when none is similar enough.
func (m *Miner) search(toks []token) *cluster {
	n := m.root[len(toks)]
	if n == nil {
		return nil
	}
	depth := min(m.cfg.Depth, len(toks))
	for i := 0; i < depth; i++ {
		next := n.children[toks[i].key()]
		if next == nil {
			next = n.children[Wildcard]
			if next == nil {
				return nil
			}
		}
		n = next
	}
	var best *cluster
	bestSim, bestParams := -1.0, -1
	for _, c := range n.clusters {
		same, wild := 0, 0
		for i, p := range c.toks {
			if toks[i].eq(p) {
				same++
			} else if p == Wildcard {
				wild++
			}
		}
		sim := float64(same) / float64(len(toks))
		if sim > bestSim || (sim == bestSim && wild > bestParams) {
			best, bestSim, bestParams = c, sim, wild
		}
	}
	if bestSim < m.cfg.SimThreshold {
		return nil
	}
	return best
}

// create makes a cluster of the line and files it in the tree.
func (m *Miner) create(toks []token) *cluster {
	c := &cluster{id: m.nextID, toks: make([]string, len(toks))}
	m.nextID++
	var b []byte
	for i, t := range toks {
		if t.masked {
			b = t.appendTemplate(b[:0])
			c.toks[i] = internTemplateToken(b)
		} else {
			c.toks[i] = strings.Clone(t.s)
		}
	}
	c.retext()
	n := m.root[len(toks)]
	if n == nil {
		n = &node{length: len(toks)}
		m.root[len(toks)] = n
	}
	depth := min(m.cfg.Depth, len(toks))
	for i := 0; i < depth; i++ {
		key := toks[i].key()
		next := n.children[key]
		if next == nil {
			if len(n.children) >= m.cfg.MaxChildren {
				key = Wildcard
				next = n.children[key]
			}
			if next == nil {
				next = n.child(key)
			}
		}
		n = next
	}
	c.leaf = n
	n.clusters = append(n.clusters, c)
	m.byID[c.id] = c
	return c
}

// internTemplateToken avoids an allocation for the commonest masked form.
func internTemplateToken(b []byte) string {
	if string(b) == Wildcard {
		return Wildcard
	}
	return string(b)
}

func (n *node) child(key string) *node {
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	key = strings.Clone(key)
	c := &node{parent: n, key: key, length: n.length}
	n.children[key] = c
	return c
}

// merge generalises c's tokens that differ from the line's.
func (m *Miner) merge(c *cluster, toks []token) {
	changed := false
	for i, p := range c.toks {
		if p != Wildcard && !toks[i].eq(p) {
			c.toks[i] = Wildcard
			changed = true
		}
	}
	if changed {
		c.retext()
	}
}

func (c *cluster) retext() {
	c.text = strings.Join(c.toks, " ")
	c.nparams = 0
	for _, p := range c.toks {
		if strings.Contains(p, Wildcard) {
			c.nparams++
		}
	}
}

func (m *Miner) unlink(c *cluster) {
	c.prev.next = c.next
	c.next.prev = c.prev
	c.prev, c.next = nil, nil
}

func (m *Miner) pushFront(c *cluster) {
	c.prev = &m.lru
	c.next = m.lru.next
	m.lru.next.prev = c
	m.lru.next = c
}

// evict drops c from the ring, the index and the tree, pruning the nodes it
// leaves empty so the tree stays as bounded as the clusters.
func (m *Miner) evict(c *cluster) {
	if c == &m.lru {
		return
	}
	m.unlink(c)
	delete(m.byID, c.id)
	m.stats.Evicted++
	n := c.leaf
	if i := slices.Index(n.clusters, c); i >= 0 {
		n.clusters = slices.Delete(n.clusters, i, i+1)
	}
	for n != nil && len(n.clusters) == 0 && len(n.children) == 0 {
		if n.parent == nil {
			delete(m.root, n.length)
			break
		}
		delete(n.parent.children, n.key)
		n = n.parent
	}
}

// Templates returns every template held, by id.
func (m *Miner) Templates() []Template {
	out := make([]Template, 0, len(m.byID))
	for c := m.lru.next; c != &m.lru; c = c.next {
		out = append(out, Template{ID: c.id, Text: c.text, Count: c.count})
	}
	slices.SortFunc(out, func(a, b Template) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Template returns the template with the given id, if it is still held.
func (m *Miner) Template(id uint64) (Template, bool) {
	c := m.byID[id]
	if c == nil {
		return Template{}, false
	}
	return Template{ID: c.id, Text: c.text, Count: c.count}, true
}
