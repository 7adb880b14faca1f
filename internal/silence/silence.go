// Package silence keeps the operators' silences: label matchers with an
// expiry, in Alertmanager's syntax, under which observations still go on
// record but open and join no incident (nobody is paged, nothing is
// remediated). The set is small, saved whole in the knowledge store's state
// documents before a change is acknowledged.
package silence

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// The labels an observation is matched by; any other name is looked up in
// its evidence (an alert's labels, a finding's feature).
const (
	LabelEntity  = "entity"  // as observed: "cart", "cart/cart-1", "host:db1"
	LabelService = "service" // the entity's service
	LabelKind    = "kind"    // "metric.anomaly", "log.new_template", "alarm", …
	LabelName    = "name"    // the series, template or alert name
)

// Limits of the set: silences are few and written by people.
const (
	MaxSilences = 1000
	maxComment  = 1024
	maxMatchers = 32
)

// ErrNotFound is returned for a silence that is not in the set.
var ErrNotFound = errors.New("silence not found")

// Silence mutes what its matchers all match from StartsAt until EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  string    `json:"matchers"` // e.g. {service="cart",kind=~"metric.*"}
	Comment   string    `json:"comment,omitempty"`
	CreatedBy string    `json:"created_by"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	// ExpiredBy names who ended it early, if anyone did.
	ExpiredBy string `json:"expired_by,omitempty"`

	matchers labels.Matchers
}

// Active tells whether the silence mutes at t.
func (s *Silence) Active(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.EndsAt) }

// Parse reads matchers in Alertmanager's syntax (braces optional), at least
// one and at most maxMatchers, not all of which may match the empty string
// (a silence of everything is refused, as by Alertmanager).
func Parse(s string) (labels.Matchers, error) {
	ms, err := labels.ParseMatchers(s)
	if err != nil {
		return nil, fmt.Errorf("matchers %q: %w (write them as {service=\"cart\",kind=~\"metric.*\"})", s, err)
	}
	if len(ms) == 0 || len(ms) > maxMatchers {
		return nil, fmt.Errorf("matchers %q: want 1 to %d matchers, got %d", s, maxMatchers, len(ms))
	}
	if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches("") }) {
		return nil, fmt.Errorf("matchers %q match everything; name at least one label that must be present", s)
	}
	return ms, nil
}

// Set is the silences, safe for concurrent use. Save is called with the
// whole set after every change and must commit it before returning.
type Set struct {
	mu    sync.Mutex
	items []*Silence
	seq   int64
	save  func([]byte) error
}

// NewSet returns a set restored from data (nil: empty) that persists every
// change with save (nil: kept in memory only).
func NewSet(data []byte, save func([]byte) error) (*Set, error) {
	s := &Set{save: save}
	if len(data) == 0 {
		return s, nil
	}
	var items []*Silence
	if err := json.Unmarshal(data, &items); err != nil {
		return s, fmt.Errorf("reading the saved silences: %w", err)
	}
	for _, it := range items {
		ms, err := Parse(it.Matchers)
		if err != nil {
			return s, fmt.Errorf("saved silence %s: %w", it.ID, err)
		}
		it.matchers = ms
		if n, err := strconv.ParseInt(it.ID, 10, 64); err == nil {
			s.seq = max(s.seq, n)
		}
	}
	s.items = items
	return s, nil
}

// Add validates and keeps a new silence (its ID, CreatedBy and times set
// by the caller are replaced: by a new ID, by, and now when StartsAt is
// zero), saving the set first.
func (s *Set) Add(sl Silence, by string, now time.Time) (Silence, error) {
	ms, err := Parse(sl.Matchers)
	if err != nil {
		return Silence{}, err
	}
	if sl.StartsAt.IsZero() {
		sl.StartsAt = now
	}
	switch {
	case !sl.EndsAt.After(sl.StartsAt):
		return Silence{}, fmt.Errorf("ends_at %s must be after starts_at %s", sl.EndsAt.Format(time.RFC3339), sl.StartsAt.Format(time.RFC3339))
	case !sl.EndsAt.After(now):
		return Silence{}, fmt.Errorf("ends_at %s is already past", sl.EndsAt.Format(time.RFC3339))
	case len(sl.Comment) > maxComment:
		return Silence{}, fmt.Errorf("comment of %d bytes; at most %d", len(sl.Comment), maxComment)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	if len(s.items) >= MaxSilences {
		return Silence{}, fmt.Errorf("%d silences already; expire some first", len(s.items))
	}
	s.seq++
	sl.ID, sl.CreatedBy, sl.ExpiredBy, sl.matchers = strconv.FormatInt(s.seq, 10), by, "", ms
	sl.Matchers = ms.String()
	items := append(slices.Clone(s.items), &sl)
	if err := s.persist(items); err != nil {
		s.seq--
		return Silence{}, err
	}
	s.items = items
	return sl, nil
}

// Expire ends a silence now, saving the set first.
func (s *Set) Expire(id, by string, now time.Time) (Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := slices.IndexFunc(s.items, func(x *Silence) bool { return x.ID == id })
	if k < 0 {
		return Silence{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	old := s.items[k]
	if !now.Before(old.EndsAt) {
		return *old, nil // over already
	}
	sl := *old
	sl.EndsAt, sl.ExpiredBy = now, by
	if sl.StartsAt.After(now) {
		sl.StartsAt = now
	}
	items := slices.Clone(s.items)
	items[k] = &sl
	if err := s.persist(items); err != nil {
		return Silence{}, err
	}
	s.items = items
	return sl, nil
}

// List returns every silence kept, active and pending first, then the
// newest ended.
func (s *Set) List(now time.Time) []Silence {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Silence, len(s.items))
	for i, it := range s.items {
		out[i] = *it
	}
	slices.SortStableFunc(out, func(a, b Silence) int {
		ea, eb := !now.Before(a.EndsAt), !now.Before(b.EndsAt)
		if ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return cmp.Compare(b.EndsAt.UnixNano(), a.EndsAt.UnixNano())
	})
	return out
}

// Match returns the ID of an active silence that mutes the observation at
// its time, or "".
func (s *Set) Match(o *signal.Observation) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) == 0 {
		return ""
	}
	get := func(name string) string {
		switch name {
		case LabelEntity:
			return o.Entity
		case LabelService:
			return rca.Service(o.Entity)
		case LabelKind:
			return string(o.Kind)
		case LabelName:
			return o.Name
		}
		return o.Evidence[name]
	}
	for _, it := range s.items {
		if !it.Active(o.Time) {
			continue
		}
		if !slices.ContainsFunc(it.matchers, func(m *labels.Matcher) bool { return !m.Matches(get(m.Name)) }) {
			return it.ID
		}
	}
	return ""
}

// keepEnded is how long an ended silence stays listed.
const keepEnded = 7 * 24 * time.Hour

// prune forgets silences that ended more than keepEnded ago (in memory; the
// next save writes the shorter set).
func (s *Set) prune(now time.Time) {
	s.items = slices.DeleteFunc(slices.Clone(s.items), func(x *Silence) bool { return now.Sub(x.EndsAt) > keepEnded })
}

func (s *Set) persist(items []*Silence) error {
	if s.save == nil {
		return nil
	}
	data, err := json.Marshal(items)
	if err != nil {
		return err
	}
	if err := s.save(data); err != nil {
		return fmt.Errorf("saving the silences: %w", err)
	}
	return nil
}

// String renders a silence for the CLI.
func (s Silence) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s until %s by %s", s.ID, s.Matchers, s.EndsAt.Format(time.RFC3339), s.CreatedBy)
	if s.Comment != "" {
		fmt.Fprintf(&b, ": %s", s.Comment)
	}
	return b.String()
}
