package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// MaxLimit is the most items one list request may ask for.
const MaxLimit = 10000

// maxUnix is the last second of year 9999, the end of RFC 3339's range.
const maxUnix = 253402300799

// params reads a request's query parameters and collects every problem, so
// that one answer names them all.
type params struct {
	v        url.Values
	problems []*apiError
}

// parseParams parses r's query string and rejects parameters other than
// allowed, since a misspelt filter silently ignored returns the wrong data.
func parseParams(r *http.Request, allowed ...string) *params {
	p := &params{}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.add(badRequest("bad_query", "the query string is malformed (%v); percent-encode reserved characters", err))
	}
	p.v = v
	for name, vals := range v {
		switch {
		case !slices.Contains(allowed, name):
			if len(allowed) == 0 {
				p.add(badRequest("unknown_param", "unknown query parameter %q; this path takes none", name))
			} else {
				p.add(badRequest("unknown_param", "unknown query parameter %q; valid ones are %s", name, strings.Join(allowed, ", ")))
			}
		case len(vals) > 1 && name != "kind":
			p.add(badRequest("repeated_param", "query parameter %q is given %d times; give it once", name, len(vals)))
		}
	}
	slices.SortFunc(p.problems, func(a, b *apiError) int { return strings.Compare(a.msg, b.msg) })
	return p
}

func (p *params) add(e *apiError) { p.problems = append(p.problems, e) }

// str is the parameter's value, or "" when absent.
func (p *params) str(name string) string { return p.v.Get(name) }

// time parses a time parameter; absent is the zero time. Besides the forms
// of parseTime it takes a time ago: 90s, 15m, 1h30m, 7d before now, the
// engine's clock (which runs on the data's time in a replay or the demo).
func (p *params) time(name string, now time.Time) time.Time {
	s := p.v.Get(name)
	if s == "" {
		return time.Time{}
	}
	if d, ok := relative(s); ok {
		return now.UTC().Add(-d)
	}
	t, err := parseTime(s)
	if err != nil {
		p.add(badRequest("bad_time", "%s: %v; or a time ago like 15m, 1h, 7d", name, err))
	}
	return t
}

// limit parses the limit parameter; absent is 0, the store's default.
func (p *params) limit() int {
	s := p.v.Get("limit")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > MaxLimit:
		p.add(badRequest("bad_limit", "limit %s is above the maximum %d; page with since/until instead", s, MaxLimit))
	case err != nil:
		p.add(badRequest("bad_limit", "limit %q is not a number; give a whole number between 0 and %d (0 means the default)", s, MaxLimit))
	case n < 0:
		p.add(badRequest("bad_limit", "limit %d is negative; give a whole number between 0 and %d (0 means the default)", n, MaxLimit))
	}
	return n
}

// err is nil, or one 400 naming every problem; its reason is the first's.
func (p *params) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	msgs := make([]string, len(p.problems))
	for i, e := range p.problems {
		msgs[i] = e.msg
	}
	return badRequest(p.problems[0].reason, "%s", strings.Join(msgs, "; "))
}

// relative reads a duration ago: Go's durations (90s, 1h30m) and whole
// days (7d). Unix seconds never end in a unit letter, so the forms do not mix.
func relative(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && digits(n) {
		days, err := strconv.Atoi(n)
		if err != nil || days > 365*100 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	if s == "" || !strings.ContainsAny(s[len(s)-1:], "hms") {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// parseID parses an incident id from the path.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("bad_id", "incident id %q is not a positive whole number; take ids from GET /api/v1/incidents", s)
	}
	return id, nil
}

// parseTime reads RFC 3339 or unix seconds (with an optional fraction), the
// two forms people paste from logs and shells, as UTC.
func parseTime(s string) (time.Time, error) {
	if s != "" && (s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '.') && !strings.ContainsAny(s, ":T") {
		return parseUnix(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2006-01-02T15:04:05Z) nor unix seconds (1700000000)", clip(s))
	}
	return t.UTC(), nil
}

// parseUnix reads unix seconds exactly: the fraction is taken digit by digit
// rather than through a float, which would lose the nanoseconds.
func parseUnix(s string) (time.Time, error) {
	bad := fmt.Errorf("%q is neither RFC 3339 (2006-01-02T15:04:05Z) nor unix seconds (1700000000)", clip(s))
	if strings.ContainsAny(s, "eE") { // a JSON number may come in exponent form
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, bad
		}
		if f < 0 || f > maxUnix {
			return time.Time{}, unixRange(s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	if neg {
		whole = whole[1:]
	}
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) {
		return time.Time{}, bad
	}
	var sec int64
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || neg || n > maxUnix { // only a range error is left once the digits are checked
			return time.Time{}, unixRange(s)
		}
		sec = n
	}
	if neg {
		return time.Time{}, unixRange(s)
	}
	var nsec int64
	for i, c := range frac {
		if i < 9 {
			nsec += int64(c-'0') * int64(math.Pow10(8-i))
		}
	}
	return time.Unix(sec, nsec).UTC(), nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func unixRange(s string) error {
	return fmt.Errorf("unix time %s is outside 0..%d seconds; if it is in milliseconds, divide by 1000", clip(s), maxUnix)
}

// clip shortens what is echoed back of a client's input.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// kinds parses the kind filter: repeated or comma-separated kinds.
func (p *params) kinds() []signal.ObsKind {
	var out []signal.ObsKind
	for _, v := range p.v["kind"] {
		for k := range strings.SplitSeq(v, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			if !signal.ObsKind(k).Valid() {
				p.add(badRequest("bad_kind", "kind %q is not an observation kind; valid ones are %s", clip(k), joinKinds(signal.ObsKinds())))
				continue
			}
			out = append(out, signal.ObsKind(k))
		}
	}
	return out
}

// status parses the incident status filter.
func (p *params) status() signal.IncidentStatus {
	s := signal.IncidentStatus(p.v.Get("status"))
	switch s {
	case "", signal.IncidentOpen, signal.IncidentMitigating, signal.IncidentResolved:
		return s
	}
	p.add(badRequest("bad_status", "status %q is not an incident status; valid ones are open, mitigating, resolved", clip(string(s))))
	return ""
}

func joinKinds[K ~string](ks []K) string {
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}
