package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/knowledge/knowledgetest"
	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	knowledgetest.TestStore(t, func(t *testing.T) knowledge.Store {
		return open(t, filepath.Join(t.TempDir(), "knowledge.db"))
	})
}

// TestReopen checks that the knowledge survives a restart.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	// A directory that does not exist yet, with a character that would
	// start the parameters of a plain DSN.
	path := filepath.Join(t.TempDir(), "data dir", "what?", "seer.db")
	s := open(t, path)
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	obs := []signal.Observation{{Time: t0, Entity: "checkout", Kind: signal.TraceErrors, Name: "POST /pay", Score: 0.9}}
	ev := signal.Event{Time: t0, Entity: "checkout", Kind: signal.EventDeploy, Text: "v2"}
	in := signal.Incident{Status: signal.IncidentOpen, Title: "checkout errors", Opened: t0, Updated: t0}
	rule := signal.Rule{If: []string{"trace.errors"}, Cause: "change", Origin: "mined"}
	if err := s.AddObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIncident(ctx, &in); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRule(ctx, &rule); err != nil {
		t.Fatal(err)
	}
	ex := signal.Execution{IncidentID: in.ID, Runbook: "rollback", Status: "planned", Started: t0}
	if err := s.AddExecution(ctx, &ex); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Observations(ctx, knowledge.ObservationQuery{}); err == nil {
		t.Fatalf("Observations after Close succeeded")
	}

	s = open(t, path)
	defer s.Close()
	gotObs, err := s.Observations(ctx, knowledge.ObservationQuery{})
	if err != nil || len(gotObs) != 1 || gotObs[0].ID != obs[0].ID || !gotObs[0].Time.Equal(t0) || gotObs[0].Score != 0.9 {
		t.Fatalf("observations after reopen = %+v, %v", gotObs, err)
	}
	gotEv, err := s.Events(ctx, knowledge.EventQuery{})
	if err != nil || len(gotEv) != 1 || gotEv[0].ID != ev.ID || gotEv[0].Text != "v2" {
		t.Fatalf("events after reopen = %+v, %v", gotEv, err)
	}
	gotIn, err := s.Incident(ctx, in.ID)
	if err != nil || gotIn.Title != in.Title || !gotIn.Opened.Equal(t0) {
		t.Fatalf("incident after reopen = %+v, %v", gotIn, err)
	}
	gotRules, err := s.Rules(ctx)
	if err != nil || len(gotRules) != 1 || gotRules[0].ID != rule.ID || gotRules[0].Cause != "change" {
		t.Fatalf("rules after reopen = %+v, %v", gotRules, err)
	}
	gotEx, err := s.Executions(ctx, in.ID)
	if err != nil || len(gotEx) != 1 || gotEx[0].ID != ex.ID || gotEx[0].Runbook != "rollback" {
		t.Fatalf("executions after reopen = %+v, %v", gotEx, err)
	}
	// IDs carry on where they left off.
	more := []signal.Observation{{Time: t0, Entity: "cart", Kind: signal.LogBurst}}
	if err := s.AddObservations(ctx, more); err != nil || more[0].ID <= obs[0].ID {
		t.Fatalf("new observation after reopen got ID %d (%v); want above %d", more[0].ID, err, obs[0].ID)
	}
}

func TestOpenPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "k.db"))
	defer s.Close()
	f := func(db *sql.DB, pragma, want string) {
		t.Helper()
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if !strings.EqualFold(got, want) {
			t.Fatalf("PRAGMA %s = %s; want %s", pragma, got, want)
		}
	}
	f(s.w, "journal_mode", "wal")
	f(s.w, "synchronous", "1") // NORMAL
	f(s.w, "foreign_keys", "1")
	f(s.w, "busy_timeout", fmt.Sprint(busyTimeoutMS))
	f(s.w, "user_version", fmt.Sprint(len(migrations)))
	f(s.r, "query_only", "1")
	f(s.r, "busy_timeout", fmt.Sprint(busyTimeoutMS))
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := Open(ctx, "", nil); err == nil {
		t.Fatalf("Open with no path succeeded")
	}
	// A file from a newer seer is refused rather than misread.
	path := filepath.Join(t.TempDir(), "k.db")
	s := open(t, path)
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path, nil); err == nil || !strings.Contains(err.Error(), "newer seer") {
		t.Fatalf("Open of a newer schema: %v; want an error asking for a newer seer", err)
	}
}

func TestTimeOutOfRange(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "k.db"))
	defer s.Close()
	ok := signal.Observation{Time: time.Unix(100, 0), Entity: "a", Kind: signal.MetricAnomaly}
	bad := ok
	bad.Time = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	obs := []signal.Observation{ok, bad}
	err := s.AddObservations(ctx, obs)
	if err == nil || !strings.Contains(err.Error(), "observation 1") {
		t.Fatalf("AddObservations with a year-3000 time: %v; want an error naming observation 1", err)
	}
	if obs[0].ID != 0 {
		t.Fatalf("a failed batch set ID %d", obs[0].ID)
	}
	got, err := s.Observations(ctx, knowledge.ObservationQuery{Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(got) != 0 {
		t.Fatalf("after a failed batch: %d observations, %v; want none stored", len(got), err)
	}
	in := signal.Incident{Status: signal.IncidentOpen, Resolved: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.PutIncident(ctx, &in); err == nil || !strings.Contains(err.Error(), "resolved") {
		t.Fatalf("PutIncident with a year-1000 time: %v; want an error naming resolved", err)
	}
}

// TestConcurrentReadsDuringWrite checks that readers are not serialised
// behind an open write transaction (WAL), and that many goroutines can
// write and read at once.
func TestConcurrentReadsDuringWrite(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "k.db"))
	defer s.Close()
	if err := s.AddObservations(ctx, benchObservations(10, 0)); err != nil {
		t.Fatal(err)
	}
	// Hold the write lock while readers run; they must all finish.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO events (time, entity, kind, text, source) VALUES (1, 'x', 'deploy', '', '')`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			got, err := s.Observations(ctx, knowledge.ObservationQuery{})
			if err == nil && len(got) != 10 {
				err = fmt.Errorf("read %d observations; want 10", len(got))
			}
			if err != nil {
				errs <- err
			}
			evs, err := s.Events(ctx, knowledge.EventQuery{})
			if err == nil && len(evs) != 0 {
				err = errors.New("a reader saw an uncommitted event")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

// benchObservations is n observations over 50 entities, a second apart
// from the minute start.
func benchObservations(n, start int) []signal.Observation {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	obs := make([]signal.Observation, n)
	for i := range obs {
		k := start + i
		obs[i] = signal.Observation{
			Time:     t0.Add(time.Duration(k) * time.Second),
			Start:    t0.Add(time.Duration(k-30) * time.Second),
			Entity:   fmt.Sprintf("svc-%d", k%50),
			Kind:     signal.MetricAnomaly,
			Name:     "http_request_duration_seconds",
			Score:    0.8,
			Actual:   0.85,
			Expected: 0.12,
			Low:      0.1,
			High:     0.18,
			Summary:  "p99 latency 850ms, expected 100-180ms",
			Evidence: map[string]string{"direction": "up", "feature": "level_shift"},
		}
	}
	return obs
}

func BenchmarkAddObservations(b *testing.B) {
	const batch = 100
	s := open(b, filepath.Join(b.TempDir(), "k.db"))
	defer s.Close()
	ctx := context.Background()
	obs := benchObservations(batch, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.AddObservations(ctx, obs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "obs/s")
}

func BenchmarkObservationsQuery(b *testing.B) {
	const n = 20000
	s := open(b, filepath.Join(b.TempDir(), "k.db"))
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		if err := s.AddObservations(ctx, benchObservations(1000, i)); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// One entity over the last hour: what incident building asks for.
	q := knowledge.ObservationQuery{Entity: "svc-7", Since: t0.Add((n - 3600) * time.Second), Until: t0.Add(n * time.Second)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Observations(ctx, q)
		if err != nil || len(got) != 72 {
			b.Fatalf("got %d observations, %v; want 72", len(got), err)
		}
	}
}
