package logs

import (
	"strconv"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestJoinedTemplatesAreNoNews: three variants of a line ("handled GET
// ...", "handled POST ...") are three templates until a fourth value makes the word a
// variable and the miner merges them into one. Their lines go on as before:
// the merged template is not silent, the one they joined does not burst.
func TestJoinedTemplatesAreNoNews(t *testing.T) {
	s := NewStage(DefaultConfig(), nil)
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var obs []signal.Observation
	methods := []string{"", "GET", "POST", "PUT", "DELETE"}
	line := func(at time.Time, worker int) signal.LogRecord {
		return signal.LogRecord{Time: at, Entity: "queue", Severity: signal.SeverityInfo,
			Body: "handled " + methods[worker] + " /orders in " + strconv.Itoa(10+worker) + "ms status=200"}
	}
	for sec := range 30 * 60 {
		at := t0.Add(time.Duration(sec) * time.Second)
		var recs []signal.LogRecord
		// Three methods are logged every two seconds each, from the
		// start; a fourth comes after twenty minutes, when all are well learned.
		for w := 1; w <= 3; w++ {
			if sec%2 == 0 {
				recs = append(recs, line(at, w))
			}
		}
		if sec >= 20*60 && sec%2 == 0 {
			recs = append(recs, line(at, 4))
		}
		obs = append(obs, s.Process(recs)...)
		obs = append(obs, s.Tick(at)...)
	}
	if s.miner.Joins() == 0 {
		t.Fatal("the miner merged nothing: the test proves nothing")
	}
	for _, o := range obs {
		if o.Kind == signal.LogSilence || o.Kind == signal.LogBurst {
			t.Errorf("%s at %s: %s", o.Kind, o.Time.Format("15:04:05"), o.Summary)
		}
	}
}
