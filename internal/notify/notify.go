package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"

	"github.com/seerops/seer/internal/signal"
)

// Notifier tells an outside system about an incident that opened, changed
// or resolved. Notify must not block.
type Notifier interface {
	Notify(ctx context.Context, in signal.Incident) error
}

// Fanout notifies every one of its notifiers.
type Fanout []Notifier

// Notify hands in to every notifier and joins their errors.
func (f Fanout) Notify(ctx context.Context, in signal.Incident) error {
	var errs []error
	for _, n := range f {
		if err := n.Notify(ctx, in); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrQueueFull is returned by Notify when the queue is full and the
// incident was dropped.
var ErrQueueFull = errors.New("notify: queue full, incident dropped")

// ErrClosed is returned by Notify after Close.
var ErrClosed = errors.New("notify: closed")

// Delivery configures how a notifier sends.
type Delivery struct {
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a failed send is tried again (5xx, 429 or
	// no answer; a 4xx is not retried).
	Retries int `yaml:"retries"`
	// Backoff is the wait before the first retry; it doubles after each.
	Backoff time.Duration `yaml:"backoff"`
	// QueueSize bounds the incidents waiting to be sent.
	QueueSize int `yaml:"queue_size"`
}

// DefaultDelivery is a 10 s timeout, 3 retries from 500 ms, 256 queued.
func DefaultDelivery() Delivery {
	return Delivery{Timeout: 10 * time.Second, Retries: 3, Backoff: 500 * time.Millisecond, QueueSize: 256}
}

// Validate reports every problem in d.
func (d Delivery) Validate() error {
	var errs []error
	if d.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout must be positive, got %s", d.Timeout))
	}
	if d.Retries < 0 {
		errs = append(errs, fmt.Errorf("retries must not be negative, got %d", d.Retries))
	}
	if d.Retries > 0 && d.Backoff <= 0 {
		errs = append(errs, fmt.Errorf("backoff must be positive, got %s", d.Backoff))
	}
	if d.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("queue_size must be at least 1, got %d", d.QueueSize))
	}
	return errors.Join(errs...)
}

// Link is the incident's page in seer's web UI, where whoever follows it
// sees the causes, the evidence and the runbook; the page reads the same
// incident from /api/v1/incidents/ID.
func Link(externalURL string, id int64) string {
	return strings.TrimRight(externalURL, "/") + "/#/incidents/" + strconv.FormatInt(id, 10)
}

// worker runs a notifier's queue: one goroutine sends, so that the caller
// never waits on the network.
type worker struct {
	name   string
	d      Delivery
	log    *slog.Logger
	client *http.Client
	queue  chan signal.Incident
	m      metrics
	mu     sync.RWMutex
	closed bool
	cancel context.CancelFunc
	done   chan struct{}
	handle func(ctx context.Context, in signal.Incident)
	tick   time.Duration
	onTick func(ctx context.Context)
}

// newWorker builds a notifier's queue and its HTTP client; it fails only
// when the client cannot be built from hc.
func newWorker(name string, d Delivery, hc config.HTTPClientConfig, logger *slog.Logger, reg prometheus.Registerer) (*worker, error) {
	client, err := newClient(name, hc, d)
	if err != nil {
		return nil, err
	}
	return &worker{
		name:   name,
		d:      d,
		log:    logger.With("component", "notify."+name),
		client: client,
		queue:  make(chan signal.Incident, d.QueueSize),
		m:      newMetrics(name, reg),
		done:   make(chan struct{}),
	}, nil
}

// start runs the worker until close.
func (w *worker) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		var tick <-chan time.Time
		if w.tick > 0 {
			t := time.NewTicker(w.tick)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case in, ok := <-w.queue:
				if !ok {
					return
				}
				w.handle(ctx, in)
			case <-tick:
				w.onTick(ctx)
			}
		}
	}()
}

// enqueue queues in without blocking.
func (w *worker) enqueue(in signal.Incident) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.queue <- in:
		return nil
	default:
		w.m.sent.WithLabelValues("dropped").Inc()
		return ErrQueueFull
	}
}

// close stops taking incidents, sends what is queued until ctx ends, then
// abandons the rest.
func (w *worker) close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	defer w.client.CloseIdleConnections()
	select {
	case <-w.done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return ctx.Err()
	}
}

// post sends body as JSON to url, retrying what may succeed later.
func (w *worker) post(ctx context.Context, url string, body []byte, header http.Header) error {
	backoff := w.d.Backoff
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		retry, err = w.once(ctx, url, body, header)
		if err == nil {
			w.m.sent.WithLabelValues("sent").Inc()
			return nil
		}
		if !retry || attempt >= w.d.Retries {
			break
		}
		w.m.sent.WithLabelValues("retried").Inc()
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			w.m.sent.WithLabelValues("failed").Inc()
			return ctx.Err()
		case <-t.C:
		}
		backoff *= 2
	}
	w.m.sent.WithLabelValues("failed").Inc()
	w.log.Warn("notification failed", "url", url, "err", err)
	return err
}

func (w *worker) once(ctx context.Context, url string, body []byte, header http.Header) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		retry, err := explain(err)
		return retry && ctx.Err() == nil, err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("%s answered %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, err
}

type metrics struct {
	sent *prometheus.CounterVec
}

func newMetrics(name string, reg prometheus.Registerer) metrics {
	m := metrics{sent: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seer_notify_total", ConstLabels: prometheus.Labels{"notifier": name},
		Help: "Notifications by outcome: sent, retried, failed, dropped (queue full).",
	}, []string{"outcome"})}
	if reg != nil {
		if err := reg.Register(m.sent); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if old, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					m.sent = old
				}
			}
		}
	}
	return m
}
