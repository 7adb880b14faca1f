package logs

import "strings"

// Kind says what kind of variable a token was recognised as.
type Kind uint8

// The kinds of variable the scanners recognise.
const (
	KindNone Kind = iota
	KindNumber
	KindHex
	KindIP
	KindUUID
	KindPath
	KindURL
	KindDuration
	KindSize
	KindTime
	// KindID is any other token with a digit in it (blk_123, node-7).
	KindID
)

var kindNames = [...]string{"none", "number", "hex", "ip", "uuid", "path", "url", "duration", "size", "time", "id"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Wildcard stands for a variable token in a template.
const Wildcard = "<*>"

// Classify says what kind of variable tok is, KindNone for a constant word.
// It looks at the whole token; Mask also tries the token without its
// surrounding punctuation and the value of a key=value token.
func Classify(tok string) Kind {
	return classify(tok, true)
}

// classify is hand-written rather than a chain of regexps because it runs
// for every token of every line: one pass collects the character classes,
// and most words (no digit, no slash) are rejected by it alone.
func classify(s string, digitIDs bool) Kind {
	n := len(s)
	if n == 0 {
		return KindNone
	}
	digits, colons, slashes := 0, 0, 0
	for i := 0; i < n; i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ':':
			colons++
		case c == '/' || c == '\\':
			slashes++
		}
	}
	if slashes > 0 {
		if isURL(s) {
			return KindURL
		}
		if !isDigit(s[0]) && isPath(s) {
			return KindPath
		}
	}
	if colons == 5 && isMAC(s) {
		return KindHex
	}
	if digits == 0 {
		if colons >= 2 && isIPv6(s) {
			return KindIP
		}
		return KindNone
	}
	switch {
	case isNumber(s):
		return KindNumber
	case isHex(s):
		return KindHex
	case isIPv4Port(s):
		return KindIP
	case isUUID(s):
		return KindUUID
	case isDuration(s):
		return KindDuration
	case isSize(s):
		return KindSize
	case isTime(s):
		return KindTime
	case colons >= 1 && s[0] == '[' && isIPv6(s):
		return KindIP
	case colons >= 2 && isIPv6(s):
		return KindIP
	case slashes > 0 && isPath(s):
		return KindPath
	case digitIDs:
		return KindID
	}
	return KindNone
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// digitsAt returns the end of the run of decimal digits starting at i.
func digitsAt(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// numberPrefix returns the end of a decimal number (sign, digits, fraction,
// exponent) at the start of s, or 0 when there is none.
func numberPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	i = digitsAt(s, i)
	intDigits := i - start
	if i < len(s) && s[i] == '.' {
		j := digitsAt(s, i+1)
		if j > i+1 {
			i = j
		} else if intDigits == 0 {
			return 0
		}
	} else if intDigits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		if k := digitsAt(s, j); k > j {
			i = k
		}
	}
	return i
}

func isNumber(s string) bool {
	n := numberPrefix(s)
	return n > 0 && n == len(s)
}

// isHex accepts 0x-prefixed hex and runs of 8 or more hex digits with at
// least one decimal digit (hashes, addresses, ids).
func isHex(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			if !isHexDigit(s[i]) {
				return false
			}
		}
		return true
	}
	if len(s) < 8 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isHexDigit(c) {
			return false
		}
		digit = digit || isDigit(c)
	}
	return digit
}

// ipv4At returns the end of a dotted quad at the start of s, or 0.
func ipv4At(s string) int {
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
		j := digitsAt(s, i)
		if j == i || j-i > 3 {
			return 0
		}
		v := 0
		for k := i; k < j; k++ {
			v = v*10 + int(s[k]-'0')
		}
		if v > 255 {
			return 0
		}
		i = j
	}
	return i
}

// isIPv4Port accepts an IPv4 address with an optional :port.
func isIPv4Port(s string) bool {
	i := ipv4At(s)
	if i == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	return s[i] == ':' && digitsAt(s, i+1) == len(s) && len(s) > i+1
}

// isIPv6 accepts an IPv6 address, optionally in brackets with a :port.
func isIPv6(s string) bool {
	if len(s) > 2 && s[0] == '[' {
		end := -1
		for i := 1; i < len(s); i++ {
			if s[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return false
		}
		rest := s[end+1:]
		if rest != "" && (rest[0] != ':' || len(rest) == 1 || digitsAt(rest, 1) != len(rest)) {
			return false
		}
		s = s[1:end]
		if ipv4At(s) == len(s) && len(s) > 0 {
			return true
		}
	}
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	groups, double, run := 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			if i+1 < len(s) && s[i+1] == ':' {
				if double {
					return false
				}
				double = true
				i++
			}
			if run > 0 {
				groups++
			}
			run = 0
		case c == '.':
			// An embedded IPv4 tail (::ffff:10.0.0.1).
			j := i - run
			if ipv4At(s[j:]) != len(s)-j {
				return false
			}
			return double || groups == 6
		case isHexDigit(c):
			run++
			if run > 4 {
				return false
			}
		default:
			return false
		}
	}
	if run > 0 {
		groups++
	}
	return (double && groups <= 7) || groups == 8
}

// isMAC accepts a hardware address, six hex pairs joined by colons.
func isMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		if i%3 == 2 {
			if s[i] != ':' {
				return false
			}
		} else if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// isUUID accepts the 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHexDigit(c) {
			return false
		}
	}
	return true
}

// isURL accepts scheme://rest.
func isURL(s string) bool {
	i := 0
	for i < len(s) && (isAlpha(s[i]) || (i > 0 && (isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))) {
		i++
	}
	return i > 0 && len(s) > i+3 && s[i] == ':' && s[i+1] == '/' && s[i+2] == '/'
}

// isPath accepts absolute and relative Unix paths and Windows paths.
func isPath(s string) bool {
	switch {
	case s[0] == '/':
		return len(s) > 1 && s[1] != '/' || len(s) > 2
	case len(s) > 2 && (s[0] == '.' || s[0] == '~') && (s[1] == '/' || s[1] == '\\'):
		return true
	case len(s) > 3 && s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\\'):
		return true
	case len(s) > 3 && isAlpha(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'):
		return true
	case len(s) > 2 && s[0] == '\\' && s[1] == '\\':
		return true
	}
	// a/b/c: a relative path of at least three parts with no spaces.
	parts := 1
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if i == 0 || i == len(s)-1 || s[i-1] == '/' {
				return false
			}
			parts++
		}
	}
	return parts >= 3
}

// isDuration accepts a number with a time unit (12ms, 1.5s, 3m) and Go's
// compound form (1h2m3.5s).
func isDuration(s string) bool {
	for len(s) > 0 {
		n := numberPrefix(s)
		if n == 0 || s[0] == '+' {
			return false
		}
		s = s[n:]
		u := 0
		for u < len(s) && (isAlpha(s[u]) || s[u] == 0xc2 || s[u] == 0xb5) {
			u++
		}
		if !isTimeUnit(s[:u]) {
			return false
		}
		s = s[u:]
	}
	return true
}

func isTimeUnit(u string) bool {
	switch u {
	case "ns", "us", "µs", "ms", "s", "m", "h", "d", "sec", "secs", "min", "mins", "hr", "hrs", "msec", "msecs", "usec", "nsec":
		return true
	}
	return false
}

// isSize accepts a number with a size unit (10KB, 3MiB, 512b, 4k).
func isSize(s string) bool {
	n := numberPrefix(s)
	if n == 0 || n == len(s) || s[0] == '+' {
		return false
	}
	switch lower := toLowerASCII(s[n:]); lower {
	case "b", "k", "m", "g", "t", "p", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "pib", "bytes", "byte":
		return true
	}
	return false
}

// toLowerASCII lowers short unit strings; it copies only when it must.
func toLowerASCII(s string) string {
	if len(s) > 8 {
		return ""
	}
	var b [8]byte
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
			changed = true
		}
		b[i] = c
	}
	if !changed {
		return s
	}
	return string(b[:len(s)])
}

// isTime accepts dates, times and timestamps: groups of digits joined by
// - / : . , or T, at least three groups, with an optional Z or ±hh:mm zone
// (2015-10-18, 18:01:47,978, 2016/9/27:20:30:31.455, 2005-06-03-15.42.50).
func isTime(s string) bool {
	if len(s) > 0 && (s[len(s)-1] == 'Z' || s[len(s)-1] == 'z') {
		s = s[:len(s)-1]
	}
	groups, i := 0, 0
	for i < len(s) {
		j := digitsAt(s, i)
		if j == i {
			return false
		}
		groups++
		i = j
		if i == len(s) {
			break
		}
		switch s[i] {
		case '-', '/', ':', '.', ',', 'T', '+':
			i++
			if i == len(s) {
				return false
			}
		default:
			return false
		}
	}
	return groups >= 3
}

// Leading and trailing punctuation that wraps a value without being part
// of it: "[10.0.0.1]", "(HWID=3180)", "3200,".
func isOpenPunct(c byte) bool {
	return c == '(' || c == '[' || c == '{' || c == '<' || c == '"' || c == '\''
}

func isClosePunct(c byte) bool {
	switch c {
	case ')', ']', '}', '>', ',', ';', ':', '.', '"', '\'', '!', '?':
		return true
	}
	return false
}

// trimPunct returns the bounds of tok without the punctuation that wraps
// it. A closing bracket or quote that closes one opened inside the token
// stays ("/products/{id}", "f(x)"): it belongs to the value, and cutting
// it off would leave it stranded after the wildcard.
func trimPunct(tok string) (i, j int) {
	i, j = 0, len(tok)
	for i < j && isOpenPunct(tok[i]) {
		i++
	}
	for j > i && isClosePunct(tok[j-1]) {
		if o := opener(tok[j-1]); o != 0 && opens(tok[i:j-1], o, tok[j-1]) {
			break
		}
		j--
	}
	return i, j
}

// opener returns the bracket or quote that c closes, or 0.
func opener(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	case '}':
		return '{'
	case '>':
		return '<'
	case '"', '\'':
		return c
	}
	return 0
}

// opens reports whether s leaves o open: more o than c in s, or for a
// quote (o == c) an odd count.
func opens(s string, o, c byte) bool {
	if o == c {
		return strings.Count(s, string(o))%2 == 1
	}
	depth := 0
	for k := 0; k < len(s); k++ {
		switch s[k] {
		case o:
			depth++
		case c:
			if depth > 0 {
				depth--
			}
		}
	}
	return depth > 0
}

// The classes of a token as tokenize sees it.
const (
	// plainTok is a constant word.
	plainTok uint8 = iota
	// softTok has a digit but no recognised type (ssh2, jk2_init(),
	// R02-M1-N0): it is routed and compared as a variable but kept in the
	// template as it is until another line shows a different value there,
	// because words like these are as often constants as variables.
	softTok
	// maskedTok holds a typed variable; the bytes pre and suf around it are
	// constant.
	maskedTok
)

// maskToken decides whether tok is variable. When only part of it is (the
// value inside brackets, after key=, key: or word(, or the number after
// node-), pre and suf count the bytes of constant text kept around the
// wildcard. Typed variables are looked for first; only then, when digitIDs
// is set, do identifiers with digits count.
func maskToken(tok string, rules Rule) (class uint8, pre, suf int) {
	var seen uint8
	colons := 0
	for i := 0; i < len(tok); i++ {
		c := byteClass[tok[i]]
		seen |= c
		if c&bColon != 0 {
			colons++
		}
	}
	return maskScanned(tok, seen&bDigit != 0, seen&(bDigit|bSlash) == 0, colons, rules)
}

// maskScanned is maskToken given what a pass over tok found: whether it
// has a digit, whether it has neither digit nor slash nor '<' (plain), and
// its count of colons.
func maskScanned(tok string, digit, plain bool, colons int, rules Rule) (class uint8, pre, suf int) {
	// Most tokens are words: no digit, no slash and at most one colon rule
	// out every kind at once.
	if plain && colons < 2 {
		// Short words may be a boolean value or a unit.
		if len(tok) <= 7 {
			i, j := trimPunct(tok)
			if w := tok[i:j]; len(w) >= 4 && rules&RuleBool != 0 && isBool(w) {
				return maskedTok, i, len(tok) - j
			} else if rules&RuleUnit != 0 && isUnit(w) {
				return softTok, 0, 0
			}
		}
		return plainTok, 0, 0
	}
	if strings.Contains(tok, Wildcard) {
		// A line that already holds the wildcard: keep the count of
		// wildcards and parameters equal.
		return maskedTok, 0, 0
	}
	i, j := trimPunct(tok)
	if j == i {
		return plainTok, 0, 0
	}
	if digitsAt(tok, i) == j {
		// The commonest variable, a bare number.
		return maskedTok, i, len(tok) - j
	}
	kv := 0
	if rules&RuleKeyValue != 0 {
		kv = keyEnd(tok, i, j)
	}
	if kv > 0 {
		// The value ends before the bracket that closes the key's: f(x).
		vi, vj := trimPunct(tok[kv:j])
		if vj > vi && classify(tok[kv+vi:kv+vj], false) != KindNone {
			return maskedTok, kv + vi, len(tok) - kv - vj
		}
	}
	if classify(tok[i:j], false) != KindNone {
		return maskedTok, i, len(tok) - j
	}
	if (i > 0 || j < len(tok)) && classify(tok, false) != KindNone {
		return maskedTok, 0, 0
	}
	if !digit || rules&ruleDigitIDs == 0 {
		return plainTok, 0, 0
	}
	vs := i
	if kv > 0 {
		vs = kv
	}
	v := tok[vs:j]
	// job_1445_0020, blk_-1608: an underscore before the digits makes an id.
	for k := 0; k+1 < len(v) && rules&RuleUnderscoreID != 0; k++ {
		if v[k] == '_' && (isDigit(v[k+1]) || (v[k+1] == '-' && k+2 < len(v) && isDigit(v[k+2]))) {
			return maskedTok, vs, len(tok) - j
		}
	}
	// host/10.0.0.1 and host-41:8030 are addresses.
	for k := 0; k+1 < len(v) && rules&RuleHostPort != 0; k++ {
		if v[k] == '/' && ipv4At(v[k+1:]) > 0 {
			return maskedTok, vs, len(tok) - j
		}
	}
	if rules&RuleHostPort != 0 && isHostPort(v) {
		return maskedTok, vs, len(tok) - j
	}
	// A number, or a word and a number: 3rd, 100%, node-246, core.3,
	// jetty-6.1.26, instruction.....0. Any other mix stays soft.
	k := 0
	for k < len(v) && isWord(v[k]) && !isDigit(v[k]) {
		k++
	}
	w := k
	for k < len(v) && !isWord(v[k]) {
		k++
	}
	soft := softTok
	if rules&RuleSoft == 0 {
		soft = maskedTok
	}
	if w > 0 && k == w {
		return soft, 0, 0
	}
	e := k
	for e < len(v) && isDigit(v[e]) {
		e++
	}
	if e > k && (e == len(v) || !isWord(v[e]) || k == 0) && (k == 0 || rules&RuleWordNumber != 0) {
		// node-[64-95]: the bracket that closes one before the number
		// stays out of the variable.
		if o := opener(v[len(v)-1]); o != 0 && o != v[len(v)-1] && strings.IndexByte(v[:k], o) >= 0 {
			j--
		}
		return maskedTok, vs + k, len(tok) - j
	}
	return soft, 0, 0
}

// isHostPort accepts host:port, the host a DNS name with a dot or a
// hyphen (db-1.example.com:5432), the port of one to five digits.
func isHostPort(v string) bool {
	c := strings.IndexByte(v, ':')
	if c <= 0 || len(v)-c-1 < 1 || len(v)-c-1 > 5 || digitsAt(v, c+1) != len(v) {
		return false
	}
	sep := false
	for k := 0; k < c; k++ {
		switch b := v[k]; {
		case b == '.' || b == '-':
			sep = true
		case !isAlnum(b):
			return false
		}
	}
	return sep
}

// isSep reports whether c separates the parts of a compound token.
func isSep(c byte) bool {
	switch c {
	case ',', ';', '|', '&', '#', '@':
		return true
	}
	return false
}

// appendSegments appends tok with each variable part between separators
// masked on its own, and reports whether that kept a constant word and
// masked something: a=1,b=2 gives a=<*>,b=<*>, a=1,2,3 gives a=<*>, and a
// list of variables alone (1,2,3) is left to be one variable.
func appendSegments(b []byte, tok string, rules Rule) ([]byte, bool) {
	masked, word := false, false
	// run is where b ended after a wildcard that ends its part, while only
	// separators have followed: a variable part next continues it, so
	// that a list of values is one variable whatever its length.
	run := -1
	for i := 0; i <= len(tok); {
		j := i
		for j < len(tok) && !isSep(tok[j]) {
			j++
		}
		if seg := tok[i:j]; seg != "" {
			class, pre, suf := maskToken(seg, rules)
			if class == softTok {
				// A word run into digits is a variable here: a compound
				// token has no place to keep it soft.
				class, pre, suf = maskedTok, 0, 0
			}
			switch {
			case class == maskedTok && pre == 0 && run >= 0:
				b = b[:run]
				masked = true
				run = -1
				if suf == 0 {
					run = len(b)
				}
				b = append(b, seg[len(seg)-suf:]...)
			case class == maskedTok:
				masked = true
				b = append(b, seg[:pre]...)
				b = append(b, Wildcard...)
				run = -1
				if suf == 0 {
					run = len(b)
				}
				b = append(b, seg[len(seg)-suf:]...)
				word = word || hasAlpha(seg[:pre]) || hasAlpha(seg[len(seg)-suf:])
			default:
				run = -1
				b = append(b, seg...)
				word = word || hasAlpha(seg)
			}
		}
		k := j
		for k < len(tok) && isSep(tok[k]) {
			k++
		}
		b = append(b, tok[j:k]...)
		if k == j {
			break
		}
		i = k
	}
	return b, masked && word
}

func hasAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if isAlpha(s[i]) {
			return true
		}
	}
	return false
}

// isUnit reports whether a word is a unit of size or time that follows a
// number (877.0 B, 12 ms): it varies with the number it follows, so it is
// kept soft.
func isUnit(w string) bool {
	if len(w) == 0 || len(w) > 5 {
		return false
	}
	// Every unit ends in one of these: most words are ruled out here.
	switch w[len(w)-1] | 0x20 {
	case 'b', 's', 'c', 'n':
	default:
		return false
	}
	switch toLowerASCII(w) {
	case "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "bytes",
		"s", "ms", "us", "µs", "ns", "sec", "secs", "msec", "usec", "min", "mins":
		return true
	}
	return false
}

// isUnitToken is isUnit of tok without its punctuation.
func isUnitToken(tok string) bool {
	i, j := trimPunct(tok)
	return isUnit(tok[i:j])
}

// isBool reports whether tok is true or false, in any case: a value, not
// a word of the message.
func isBool(tok string) bool {
	switch len(tok) {
	case 4:
		return (tok[0]|0x20) == 't' && (tok[1]|0x20) == 'r' && (tok[2]|0x20) == 'u' && (tok[3]|0x20) == 'e'
	case 5:
		return (tok[0]|0x20) == 'f' && (tok[1]|0x20) == 'a' && (tok[2]|0x20) == 'l' && (tok[3]|0x20) == 's' && (tok[4]|0x20) == 'e'
	}
	return false
}

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// isWord is a byte of a word: letters, digits and the underscore, as in
// identifiers.
func isWord(c byte) bool { return isAlnum(c) || c == '_' }

// keyEnd returns where the value of key=value, key:value, call(value),
// name{value} or name[value] starts, the key a word without digits, or 0
// when tok[i:j] is none of them. scheme:// is not a key, nor host.name:
// before a port.
func keyEnd(tok string, i, j int) int {
	dotted := false
	for k := i; k < j-1; k++ {
		c := tok[k]
		if isDigit(c) {
			return 0
		}
		if c == '=' || c == ':' || c == '(' || c == '{' || c == '[' {
			if k == i || (c == ':' && (k == i+1 || dotted || (k+2 < j && tok[k+1] == '/' && tok[k+2] == '/'))) {
				return 0
			}
			return k + 1
		}
		// A dotted or dashed name before a colon is a host.
		dotted = dotted || c == '.' || c == '-'
	}
	return 0
}

// Mask returns line with every variable token replaced by Wildcard, the
// tokens joined by single spaces. Tokens that are variable only when they
// vary (soft ones, like ssh2) are kept.
func Mask(line string) string {
	var toks []token
	var mb []byte
	toks, _, _ = tokenize(line, toks, &mb, DefaultMaxTokens, MinerConfig{}.rules())
	b := make([]byte, 0, len(line))
	for i, t := range toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.m...)
	}
	return string(b)
}
