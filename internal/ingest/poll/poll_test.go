package poll

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestRunReadsEveryTargetEachRoundAndReportsFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	got := map[string]int{}
	failed := map[string]bool{}
	rounds := 0
	read := func(_ context.Context, tg string) ([]signal.Sample, error) {
		if tg == "bad" {
			return []signal.Sample{{Entity: tg, Name: "up", Value: 0}}, errors.New("refused")
		}
		return []signal.Sample{{Entity: tg, Name: "up", Value: 1}}, nil
	}
	sink := func(_ context.Context, b *signal.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		got[b.Samples[0].Entity]++
		if got["a"] == 3 && rounds == 0 {
			rounds = 3
			cancel()
		}
		return nil
	}
	fail := func(tg string, read bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed[tg] = read && err != nil
	}
	Run(ctx, time.Millisecond, []string{"a", "b", "bad"}, read, sink, fail)
	mu.Lock()
	defer mu.Unlock()
	if got["a"] < 3 || got["b"] < 2 {
		t.Fatalf("rounds per target %v, want every target read each round", got)
	}
	if got["bad"] == 0 || !failed["bad"] || failed["a"] {
		t.Fatalf("a failing target's samples (its up=0) must still be handed on and its failure reported: got %v, failed %v", got, failed)
	}
}

func TestRunWithoutTargetsReturns(t *testing.T) {
	Run(context.Background(), time.Hour, []string(nil), nil, nil, func(string, bool, error) {})
}
