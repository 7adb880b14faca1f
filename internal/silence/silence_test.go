package silence

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestSilences(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var saved []byte
	set, err := NewSet(nil, func(b []byte) error { saved = b; return nil })
	if err != nil {
		t.Fatal(err)
	}
	sl, err := set.Add(Silence{Matchers: `service="cart", kind=~"metric.*"`, EndsAt: now.Add(time.Hour), Comment: "deploying"}, "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if sl.ID == "" || sl.CreatedBy != "alice" || !sl.StartsAt.Equal(now) || saved == nil {
		t.Fatalf("added %+v (saved %d bytes)", sl, len(saved))
	}
	obs := func(entity string, kind signal.ObsKind, at time.Time) *signal.Observation {
		return &signal.Observation{Entity: entity, Kind: kind, Name: "cpu", Time: at}
	}
	for _, c := range []struct {
		o    *signal.Observation
		want bool
	}{
		{obs("cart/cart-1", signal.MetricAnomaly, now.Add(time.Minute)), true}, // an instance of the service
		{obs("cart", signal.MetricForecast, now.Add(time.Minute)), true},
		{obs("cart", signal.LogNewTemplate, now.Add(time.Minute)), false}, // another kind
		{obs("payment", signal.MetricAnomaly, now.Add(time.Minute)), false},
		{obs("cart", signal.MetricAnomaly, now.Add(2*time.Hour)), false},  // after it ended
		{obs("cart", signal.MetricAnomaly, now.Add(-time.Minute)), false}, // before it began
	} {
		if got := set.Match(c.o) != ""; got != c.want {
			t.Errorf("%s %s at %s: silenced %v, want %v", c.o.Entity, c.o.Kind, c.o.Time.Sub(now), got, c.want)
		}
	}
	// The set comes back from what was saved.
	back, err := NewSet(saved, nil)
	if err != nil || len(back.List(now)) != 1 || back.Match(obs("cart", signal.MetricAnomaly, now)) != sl.ID {
		t.Fatalf("restored %v, %v", back.List(now), err)
	}
	// Expired early, it mutes nothing more and says who ended it.
	ex, err := set.Expire(sl.ID, "bob", now.Add(10*time.Minute))
	if err != nil || ex.ExpiredBy != "bob" || set.Match(obs("cart", signal.MetricAnomaly, now.Add(11*time.Minute))) != "" {
		t.Fatalf("expired %+v, %v", ex, err)
	}
	if _, err := set.Expire("nope", "bob", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("expiring an unknown silence: %v", err)
	}
}

func TestSilenceValidation(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	set, _ := NewSet(nil, nil)
	for _, c := range []struct {
		sl   Silence
		want string
	}{
		{Silence{Matchers: `service=~".*"`, EndsAt: now.Add(time.Hour)}, "match everything"},
		{Silence{Matchers: `service="cart`, EndsAt: now.Add(time.Hour)}, "matchers"},
		{Silence{Matchers: ``, EndsAt: now.Add(time.Hour)}, "matchers"},
		{Silence{Matchers: `service="cart"`, EndsAt: now.Add(-time.Hour)}, "after starts_at"},
		{Silence{Matchers: `service="cart"`, StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour)}, "already past"},
		{Silence{Matchers: `service="cart"`, EndsAt: now.Add(time.Hour), Comment: strings.Repeat("x", 2000)}, "comment"},
	} {
		if _, err := set.Add(c.sl, "alice", now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.sl, err, c.want)
		}
	}
	// A failed save keeps the set as it was.
	failing, _ := NewSet(nil, func([]byte) error { return errors.New("disk full") })
	if _, err := failing.Add(Silence{Matchers: `service="cart"`, EndsAt: now.Add(time.Hour)}, "alice", now); err == nil || len(failing.List(now)) != 0 {
		t.Errorf("a silence that was not saved was kept: %v", err)
	}
	if _, err := NewSet([]byte("{"), nil); err == nil {
		t.Error("corrupt saved silences accepted")
	}
}

// FuzzSilences: outside input (an API body's matchers, a saved document)
// never panics; what Parse accepts renders to matchers that parse again
// the same.
func FuzzSilences(f *testing.F) {
	f.Add(`{service="cart",kind=~"metric.*"}`, []byte(`[{"id":"1","matchers":"{service=\"cart\"}"}]`))
	f.Add(`service!="", name=~"(a|b"`, []byte(`[{"id":"x"}]`))
	f.Fuzz(func(t *testing.T, matchers string, saved []byte) {
		if ms, err := Parse(matchers); err == nil {
			again, err := Parse(ms.String())
			if err != nil || again.String() != ms.String() {
				t.Fatalf("%q parsed to %q, which reads back as %q (%v)", matchers, ms, again, err)
			}
		}
		if set, err := NewSet(saved, nil); err == nil {
			set.Match(&signal.Observation{Entity: "cart", Time: time.Unix(0, 0)})
		}
	})
}
