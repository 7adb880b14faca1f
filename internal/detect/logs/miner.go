package logs

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
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
	cfg   MinerConfig
	rules Rule
	root  map[int]*node
	byID  map[uint64]*cluster
	// alias maps the ids of templates merged into another to its id;
	// joins counts the merges.
	alias  map[uint64]uint64
	joins  int64
	nextID uint64
	// lru is the sentinel of the ring of clusters, most recently matched
	// first.
	lru   cluster
	toks  []token
	stats MinerStats
	// seen maps the shape of a line (its words, and the constant text
	// around its variables) to the template the last line of that shape
	// was found to fit best, so that a line of a known shape skips the scan
	// of its leaf. An entry holds while the leaf and the tree are as they
	// were when it was made.
	seen map[string]seenEntry
	sig  []byte
	// mb holds the masked forms of the current line's tokens.
	mb []byte
	// tree counts the nodes made, which can change the route of a line.
	tree uint64
}

// seenEntry is a remembered search result.
type seenEntry struct {
	c    *cluster
	ver  uint64
	tree uint64
}

// maxSeen bounds the remembered shapes; past it they are forgotten at once.
const maxSeen = 1 << 15

// node is a prefix tree node; a leaf holds the clusters.
type node struct {
	parent   *node
	key      string
	length   int
	children map[string]*node
	clusters []*cluster
	// ver changes whenever a cluster of the leaf comes, goes or changes.
	ver uint64
}

// cluster is one template and its bookkeeping.
type cluster struct {
	id         uint64
	toks       []ctok
	text       string
	nparams    int
	count      int64
	leaf       *node
	prev, next *cluster
}

// ctok is one token of a template: a constant, or constant text around
// one or more wildcards (user=<*>, <*>##<*>, {"id":<*>}).
type ctok struct {
	s string
	// wild and last are the byte offsets of the first and the last
	// wildcard in s, or -1 for a constant.
	wild, last int32
	// soft marks a constant with a digit, which a line's variable token
	// may stand in for.
	soft bool
}

// newCtok makes the template token of text s.
func newCtok(s string) ctok {
	return ctok{s: s, wild: int32(strings.Index(s, Wildcard)), last: int32(strings.LastIndex(s, Wildcard))}
}

func (p *ctok) pre() string { return p.s[:p.wild] }

// mid is the text between p's first and last wildcards.
func (p *ctok) mid() string { return p.s[int(p.wild)+len(Wildcard) : p.last] }

// nextPart splits the constant part before the next wildcard of mid from
// the rest after it.
func nextPart(mid string) (part, rest string) {
	if k := strings.Index(mid, Wildcard); k >= 0 {
		return mid[:k], mid[k+len(Wildcard):]
	}
	return mid, ""
}
func (p *ctok) suf() string { return p.s[int(p.last)+len(Wildcard):] }

// How a line's token stands to a template's.
const (
	differs = iota
	// covers: a bare wildcard over a constant word, which Drain counts as
	// neither like nor unlike.
	covers
	same
)

// cmp compares line token t with template token p under the rules.
func (p *ctok) cmp(t *token, rules Rule) int {
	if p.wild < 0 {
		if p.s == t.s || (p.soft && t.class != plainTok) {
			return same
		}
		return differs
	}
	if t.class == maskedTok {
		// A variable joins a wildcard with the same constant text around
		// it (not instruction......<*> and instruction.........0), or a
		// bare one.
		if p.s == t.m || len(p.s) == len(Wildcard) {
			return same
		}
		return differs
	}
	if !p.fits(t.s) {
		return differs
	}
	if t.class != plainTok || len(p.s) > len(Wildcard) || rules&RuleCovers == 0 {
		return same
	}
	return covers
}

// fits reports whether s has the constant text of p, in order, around
// its wildcards.
func (p *ctok) fits(s string) bool {
	pre, suf := p.pre(), p.suf()
	if len(s) < len(pre)+len(suf) || !strings.HasPrefix(s, pre) || !strings.HasSuffix(s, suf) {
		return false
	}
	if p.wild == p.last {
		return true
	}
	// The constant parts between the wildcards, each at its leftmost
	// place: if any placing fits, that one does.
	s = s[len(pre) : len(s)-len(suf)]
	for mid := p.mid(); mid != ""; {
		var part string
		part, mid = nextPart(mid)
		k := strings.Index(s, part)
		if k < 0 {
			return false
		}
		s = s[k+len(part):]
	}
	return true
}

// covers reports whether template token p stands for all that q does.
func (p *ctok) covers(q *ctok) bool {
	switch {
	case p.s == q.s:
		return true
	case p.wild < 0:
		return false
	case q.wild < 0:
		return p.fits(q.s)
	}
	return len(p.s) == len(Wildcard)
}

// appendParams appends the text of s at each of p's wildcards; s fits p.
func (p *ctok) appendParams(ps []string, s string) []string {
	end := len(s) - len(p.suf())
	if p.wild == p.last {
		return append(ps, s[p.wild:end])
	}
	at := int(p.wild)
	for mid := p.mid(); mid != ""; {
		var part string
		part, mid = nextPart(mid)
		k := strings.Index(s[at:end], part)
		if k < 0 {
			k = end - at
		}
		ps = append(ps, s[at:at+k])
		at = min(at+k+len(part), end)
	}
	return append(ps, s[at:end])
}

// generalize returns the template token that covers both p and t: the
// text their templates share at either end, cut back to a delimiter so
// that no word nor wildcard is split, around a wildcard (user=<*>,
// core.<*>, node-<*>, a=<*>,b=<*>).
func generalize(p *ctok, t *token) ctok {
	a, b := p.s, t.m
	cp := commonPrefix(a, b)
	cs := commonSuffix(a[cp:], b[cp:])
	for cp > 0 && (isWord(a[cp-1]) || splitsWildcard(a, cp)) {
		cp--
	}
	for cs > 0 && (isWord(a[len(a)-cs]) || splitsWildcard(a, len(a)-cs)) {
		cs--
	}
	pre, suf := a[:cp], a[len(a)-cs:]
	// Two wildcards side by side are one.
	pre = strings.TrimSuffix(pre, Wildcard)
	suf = strings.TrimPrefix(suf, Wildcard)
	if pre == "" && suf == "" {
		return ctok{s: Wildcard, wild: 0, last: 0}
	}
	return newCtok(pre + Wildcard + suf)
}

// splitsWildcard reports whether a cut of s at i falls inside a wildcard.
func splitsWildcard(s string, i int) bool {
	for k := max(i-len(Wildcard)+1, 0); k < i && k+len(Wildcard) <= len(s); k++ {
		if s[k:k+len(Wildcard)] == Wildcard {
			return true
		}
	}
	return false
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// token is one whitespace-separated token of a line, and m its text as a
// template has it: s itself, or s with its variable parts replaced by
// Wildcard when it is masked.
type token struct {
	s, m  string
	class uint8
}

// key is the token's branch in the prefix tree: a variable, even a soft
// one, takes the wildcard branch so that ids never grow the tree.
func (t *token) key() string {
	if t.class != plainTok || !isWordKey(t.s) {
		return Wildcard
	}
	return t.s
}

// isWordKey reports whether a plain token is a word that can route a line:
// letters and underscores, with punctuation only around them. A name with
// dots or dashes inside (chrome.exe, db-primary) is as often a variable
// as a word of the message, and routed by it the line could never meet
// the lines of its template with other names there.
func isWordKey(s string) bool {
	i, j := trimPunct(s)
	for k := i; k < j; k++ {
		if !isWord(s[k]) {
			return false
		}
	}
	return true
}

// template makes the template token of a line's token.
func (t *token) template() ctok {
	switch t.class {
	case maskedTok:
		if t.m == Wildcard {
			return ctok{s: Wildcard}
		}
		return newCtok(strings.Clone(t.m))
	case softTok:
		return ctok{s: strings.Clone(t.s), wild: -1, last: -1, soft: true}
	}
	return ctok{s: strings.Clone(t.s), wild: -1, last: -1}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// The classes of a byte tokenize tells apart.
const (
	bSpace uint8 = 1 << iota
	bDigit
	// bSlash marks / \ and <, which can start a path or a wildcard.
	bSlash
	bColon
	// bSep marks the separators of a compound token.
	bSep
	// bHigh marks the bytes of multi-byte UTF-8 sequences (or invalid).
	bHigh
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case isSpace(byte(c)):
			t[c] = bSpace
		case isDigit(byte(c)):
			t[c] = bDigit
		case c == '/' || c == '\\' || c == '<':
			t[c] = bSlash
		case c == ':':
			t[c] = bColon
		case isSep(byte(c)):
			t[c] = bSep
		case c >= utf8.RuneSelf:
			t[c] = bHigh
		}
	}
	return t
}()

// tokenize splits line at white space into buf and masks each token. Past
// max-1 tokens the rest of the line becomes one variable token, so that a
// huge line costs no more than max tokens. The masked forms of the tokens
// are written to *mb, which is made large enough first never to grow
// while the line's tokens point into it.
func tokenize(line string, buf []token, mb *[]byte, max int, rules Rule) (toks []token, truncated, ascii bool) {
	buf = buf[:0]
	// A variable part of one byte or more becomes the three of Wildcard.
	if need := 3*len(line) + 8; cap(*mb) < need {
		*mb = make([]byte, 0, need+need/2)
	}
	*mb = (*mb)[:0]
	i, n := 0, len(line)
	var all uint8
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return buf, false, all&bHigh == 0
		}
		if len(buf) == max-1 {
			j := n
			for j > i && isSpace(line[j-1]) {
				j--
			}
			rest := line[i:j]
			for k := 0; k < len(rest); k++ {
				if isSpace(rest[k]) {
					return append(buf, token{s: rest, m: Wildcard, class: maskedTok}), true, false
				}
			}
			// Only one token is left: it is an ordinary one.
		}
		// One pass finds the token's end and what maskToken needs to know
		// of its bytes.
		j, seen, colons := i, uint8(0), 0
		for j < n {
			c := byteClass[line[j]]
			if c&bSpace != 0 {
				break
			}
			seen |= c
			if c&bColon != 0 {
				colons++
			}
			j++
		}
		all |= seen
		t := token{s: line[i:j]}
		t.m = t.s
		class, pre, suf := maskScanned(t.s, seen&bDigit != 0, seen&(bDigit|bSlash) == 0, colons, rules)
		t.class = class
		if seen&bSep != 0 && rules&RuleSegments != 0 && class != plainTok {
			// A compound token (a=1,b=2; 7##0##12; {"id":42}): each part
			// between separators is masked on its own, when that keeps a
			// constant word.
			at := len(*mb)
			if b, ok := appendSegments(*mb, t.s, rules); ok {
				*mb = b
				t.m, t.class = unsafe.String(&b[at], len(b)-at), maskedTok
				buf = append(buf, t)
				i = j
				continue
			}
		}
		if class == maskedTok {
			if pre == 0 && suf == 0 {
				t.m = Wildcard
			} else {
				at := len(*mb)
				b := append(*mb, t.s[:pre]...)
				b = append(b, Wildcard...)
				b = append(b, t.s[len(t.s)-suf:]...)
				*mb = b
				t.m = unsafe.String(&b[at], len(b)-at)
			}
		}
		buf = append(buf, t)
		i = j
	}
}

// NewMiner returns an empty miner. Fields of cfg out of range take their
// defaults; call cfg.Validate first to reject them instead.
func NewMiner(cfg MinerConfig) *Miner {
	cfg = cfg.withDefaults()
	if cfg.Validate() != nil {
		cfg = MinerConfig{KeepDigitTokens: cfg.KeepDigitTokens, Without: cfg.Without}.withDefaults()
	}
	m := &Miner{cfg: cfg, rules: cfg.rules()}
	m.reset()
	return m
}

func (m *Miner) reset() {
	m.root = make(map[int]*node)
	m.byID = make(map[uint64]*cluster)
	m.alias = make(map[uint64]uint64)
	m.nextID = 1
	m.lru.next, m.lru.prev = &m.lru, &m.lru
	m.stats = MinerStats{}
	m.seen = make(map[string]seenEntry)
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
	toks, truncated, ascii := tokenize(line, m.toks, &m.mb, m.cfg.MaxTokens, m.rules)
	m.toks = toks
	if truncated {
		m.stats.Truncated++
	}
	if !ascii && !utf8.ValidString(line) {
		m.stats.InvalidUTF8++
	}
	if len(toks) == 0 {
		m.stats.Empty++
		return Match{}
	}
	m.sig = appendShape(m.sig[:0], toks)
	var c *cluster
	hit := false
	if e, ok := m.seen[string(m.sig)]; ok && e.tree == m.tree && e.ver == e.c.leaf.ver {
		c, hit = e.c, true
	} else {
		c = m.search(toks)
		if c != nil {
			if len(m.seen) >= maxSeen {
				clear(m.seen)
			}
			m.seen[string(m.sig)] = seenEntry{c: c, ver: c.leaf.ver, tree: m.tree}
		}
	}
	isNew := false
	switch {
	case hit:
		// The last line of this shape neither split nor changed the
		// template (either would have changed the leaf): nor does this
		// one, whose words and constant text are the same.
		m.unlink(c)
	case c == nil:
		c, isNew = m.create(toks), true
	case m.rules&RuleSplit != 0 && c.splitAt(toks) >= 0:
		// A template meets a second value of a word: a template of its
		// own, until the word shows enough values to be a variable after
		// all, when the siblings join again under the oldest id.
		n := m.create(toks)
		if k := m.join(n, c.splitAt(toks)); k != n {
			c = k
			m.merge(c, toks)
			m.unlink(c)
		} else {
			c, isNew = n, true
		}
	default:
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

// appendShape appends what a line's search result depends on: its plain
// and soft words, and the constant text around its variables.
func appendShape(b []byte, toks []token) []byte {
	for i := range toks {
		t := &toks[i]
		switch t.class {
		case plainTok:
			b = append(b, t.s...)
		case softTok:
			b = append(b, 1)
			b = append(b, t.s...)
		default:
			b = append(b, 2)
			b = append(b, t.m...)
		}
		b = append(b, 0)
	}
	return b
}

// splitValues is how many values of one word make it a variable after all.
const splitValues = 4

// splitAt returns the one position where the line has another word than
// c's constant, or -1 when there is none or more than one.
func (c *cluster) splitAt(toks []token) int {
	at := -1
	for i := range c.toks {
		p, t := &c.toks[i], &toks[i]
		if p.wild >= 0 || p.s == t.s || t.class == maskedTok {
			continue
		}
		if i > 0 && isKey(c.toks[i-1].s) {
			// The value of "key:" or "key=" is a variable however few
			// values it has shown.
			return -1
		}
		if k := keyEnd(t.s, 0, len(t.s)); k > 0 && strings.HasPrefix(p.s, t.s[:k]) {
			// So is the value of key=value.
			return -1
		}
		if i > 0 && t.class == softTok && c.toks[i-1].s == Wildcard && isUnitToken(t.s) {
			// And the unit after a number.
			return -1
		}
		if at >= 0 {
			return -1
		}
		at = i
	}
	return at
}

// isKey reports whether a template token is a key whose value follows:
// a word ending in ':' or '='.
func isKey(s string) bool {
	n := len(s)
	return n > 1 && (s[n-1] == ':' || s[n-1] == '=') && isWord(s[n-2])
}

// join returns n, or, when n and its siblings that differ from it only in
// their constant at position i have splitValues values there, the oldest
// of them with the others merged into it.
func (m *Miner) join(n *cluster, i int) *cluster {
	var sib []*cluster
	for _, s := range n.leaf.clusters {
		if s == n || s.toks[i].wild >= 0 {
			continue
		}
		alike := true
		for j := range s.toks {
			if p, q := &s.toks[j], &n.toks[j]; j != i && !p.covers(q) && !q.covers(p) && !(p.soft && q.soft) {
				alike = false
				break
			}
		}
		if alike {
			sib = append(sib, s)
		}
	}
	if len(sib)+1 < splitValues {
		return n
	}
	sib = append(sib, n)
	keep := sib[0]
	for _, s := range sib[1:] {
		if s.id < keep.id {
			keep = s
		}
	}
	for _, s := range sib {
		if s == keep {
			continue
		}
		// Where keep does not cover the sibling (at i, and wherever one
		// had a wildcard the other had not), it is generalised.
		for j := range keep.toks {
			if g := &keep.toks[j]; !g.covers(&s.toks[j]) {
				t := token{s: s.toks[j].s, m: s.toks[j].s}
				*g = generalize(g, &t)
			}
		}
		keep.count += s.count
		m.drop(s)
		m.alias[s.id] = keep.id
		m.joins++
	}
	keep.retext()
	if len(m.alias) > m.cfg.MaxClusters {
		clear(m.alias)
	}
	return keep
}

func appendParams(ps []string, c *cluster, toks []token) []string {
	if c.nparams == 0 {
		return ps
	}
	if ps == nil {
		ps = make([]string, 0, c.nparams)
	}
	for i := range c.toks {
		if p := &c.toks[i]; p.wild >= 0 {
			ps = p.appendParams(ps, toks[i].s)
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
	// need is the least count of equal tokens that is similar enough; a
	// cluster is given up as soon as it can no longer reach it, nor the
	// best so far.
	need := m.need(len(toks))
	var best *cluster
	bestSame, bestParams := -1, -1
clusters:
	for _, c := range n.clusters {
		lim := len(toks) - max(need, bestSame)
		nsame, wild, other := 0, 0, 0
		for i := range c.toks {
			switch c.toks[i].cmp(&toks[i], m.rules) {
			case same:
				nsame++
				continue
			case covers:
				wild++
			}
			if other++; other > lim {
				continue clusters
			}
		}
		if nsame > bestSame || (nsame == bestSame && wild > bestParams) {
			best, bestSame, bestParams = c, nsame, wild
		}
	}
	return best
}

// need returns the least count of a line's n tokens that must equal a
// template's for the line to be similar enough to it.
func (m *Miner) need(n int) int {
	k := int(math.Ceil(m.cfg.SimThreshold * float64(n)))
	for k > 0 && float64(k-1)/float64(n) >= m.cfg.SimThreshold {
		k--
	}
	for k <= n && float64(k)/float64(n) < m.cfg.SimThreshold {
		k++
	}
	return k
}

// create makes a cluster of the line and files it in the tree.
func (m *Miner) create(toks []token) *cluster {
	c := &cluster{id: m.nextID, toks: make([]ctok, len(toks))}
	m.nextID++
	for i := range toks {
		c.toks[i] = toks[i].template()
	}
	c.retext()
	m.file(c, toks)
	m.byID[c.id] = c
	return c
}

// file puts c in the leaf the line's tokens lead to, making the path.
func (m *Miner) file(c *cluster, toks []token) {
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
				m.tree++
			}
		}
		n = next
	}
	c.leaf = n
	n.clusters = append(n.clusters, c)
	n.ver++
}

func (n *node) child(key string) *node {
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	key = strings.Clone(key)
	c := &node{parent: n, key: key, length: n.length, ver: 1}
	n.children[key] = c
	return c
}

// merge generalises c's tokens that differ from the line's.
func (m *Miner) merge(c *cluster, toks []token) {
	changed := false
	for i := range c.toks {
		p, t := &c.toks[i], &toks[i]
		if p.wild < 0 && p.s == t.s {
			continue
		}
		if p.wild >= 0 && p.fits(t.s) {
			continue
		}
		c.toks[i] = generalize(p, t)
		changed = true
	}
	if changed {
		c.retext()
	}
}

func (c *cluster) retext() {
	n := len(c.toks)
	for i := range c.toks {
		n += len(c.toks[i].s)
	}
	b := make([]byte, 0, n)
	c.nparams = 0
	for i := range c.toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, c.toks[i].s...)
		if c.toks[i].wild >= 0 {
			c.nparams += strings.Count(c.toks[i].s, Wildcard)
		}
	}
	c.text = string(b)
	if c.leaf != nil {
		c.leaf.ver++
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
	m.stats.Evicted++
	m.drop(c)
}

// drop removes c from the ring (if it is in it), the index and the tree.
func (m *Miner) drop(c *cluster) {
	if c.prev != nil {
		m.unlink(c)
	}
	delete(m.byID, c.id)
	n := c.leaf
	n.ver++
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
	slices.SortFunc(out, func(a, b Template) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Joins is how many templates have been merged into another so far.
func (m *Miner) Joins() int64 { return m.joins }

// MergedInto is the id of the template that the one with the given id was
// merged into (following merges of merges), or false when it was not.
func (m *Miner) MergedInto(id uint64) (uint64, bool) {
	to, ok := m.alias[id]
	for i := 0; ok && i < 64; i++ { // a chain is short; the bound guards a cycle
		next, more := m.alias[to]
		if !more {
			break
		}
		to = next
	}
	return to, ok
}

// Template returns the template with the given id, if it is still held.
func (m *Miner) Template(id uint64) (Template, bool) {
	c := m.byID[id]
	if c == nil {
		c = m.byID[m.alias[id]]
	}
	if c == nil {
		return Template{}, false
	}
	return Template{ID: c.id, Text: c.text, Count: c.count}, true
}
