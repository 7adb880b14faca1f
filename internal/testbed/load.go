package testbed

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// LoadConfig is the load generator's.
type LoadConfig struct {
	// URL is the front end (through its proxy).
	URL string
	// Day is how long a compressed day lasts; the rate of new sessions
	// follows it from a night trough to a midday peak and back.
	Day time.Duration
	// Peak is the sessions a second at the peak; the trough is 30 % of it.
	Peak float64
	// Phase is where in the day the load starts, in [0,1) (0 is midnight).
	Phase float64
	// Users is how many distinct users sessions are drawn from.
	Users int
	// MaxSessions bounds the sessions in progress.
	MaxSessions int
}

// Load generates user sessions against the shop: a user opens the home
// page, views a few products, may add some to the cart and check out,
// thinking between steps.
type Load struct {
	cfg    LoadConfig
	client *http.Client
	active atomic.Int64

	mu       sync.Mutex
	requests map[string]int64
	failures map[string]int64
}

// NewLoad returns a load generator; Run drives it.
func NewLoad(cfg LoadConfig) *Load {
	if cfg.Day <= 0 {
		cfg.Day = 10 * time.Minute
	}
	if cfg.Peak <= 0 {
		cfg.Peak = 4
	}
	if cfg.Phase == 0 {
		cfg.Phase = 0.4 // late morning: busy, rising
	}
	if cfg.Users <= 0 {
		cfg.Users = 500
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 200
	}
	return &Load{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
		requests: map[string]int64{}, failures: map[string]int64{}}
}

// Rate is the sessions a second at elapsed time since the start.
func (l *Load) Rate(elapsed time.Duration) float64 {
	p := l.cfg.Phase + elapsed.Seconds()/l.cfg.Day.Seconds()
	return l.cfg.Peak * (0.3 + 0.7*(0.5-0.5*math.Cos(2*math.Pi*p)))
}

// Run starts sessions until ctx ends, then waits for them.
func (l *Load) Run(ctx context.Context) {
	start := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		gap := time.Duration(rand.ExpFloat64() / l.Rate(time.Since(start)) * float64(time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		if l.active.Load() >= int64(l.cfg.MaxSessions) {
			continue
		}
		l.active.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.active.Add(-1)
			l.session(ctx)
		}()
	}
}

func (l *Load) session(ctx context.Context) {
	user := fmt.Sprintf("u%d", rand.IntN(l.cfg.Users))
	think := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Duration(100+rand.IntN(400)) * time.Millisecond):
			return true
		}
	}
	if !l.do(ctx, "GET", "/", "home") || !think() {
		return
	}
	views := 1 + rand.IntN(4)
	var picked []int
	for range views {
		id := 1 + rand.IntN(100)
		if !l.do(ctx, "GET", fmt.Sprintf("/product/%d", id), "product") || !think() {
			return
		}
		picked = append(picked, id)
	}
	if rand.Float64() >= 0.5 {
		return
	}
	for _, id := range picked[:1+rand.IntN(len(picked))] {
		if !l.do(ctx, "POST", fmt.Sprintf("/cart/%s/add/%d", user, id), "add") || !think() {
			return
		}
	}
	if rand.Float64() < 0.6 {
		l.do(ctx, "POST", "/checkout/"+user, "checkout")
	}
}

// do makes one request; a failure ends the session, as a user gives up.
func (l *Load) do(ctx context.Context, method, path, what string) bool {
	req, err := http.NewRequestWithContext(ctx, method, l.cfg.URL+path, nil)
	if err != nil {
		return false
	}
	resp, err := l.client.Do(req)
	ok := err == nil && resp.StatusCode < 500
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if ctx.Err() != nil {
		return false
	}
	l.mu.Lock()
	l.requests[what]++
	if !ok {
		l.failures[what]++
	}
	l.mu.Unlock()
	return ok
}

// Stats returns the requests made and failed so far, by step.
func (l *Load) Stats() (requests, failures map[string]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	requests, failures = map[string]int64{}, map[string]int64{}
	for k, v := range l.requests {
		requests[k] = v
	}
	for k, v := range l.failures {
		failures[k] = v
	}
	return requests, failures
}
