package engine

import (
	"slices"
	"strings"
	"sync"

	"github.com/seerops/seer/internal/signal"
)

// maxServices bounds the services remembered from metrics, logs and events.
const maxServices = 10000

// services are the services seen in any signal, not only in traces: a
// service that sends only metrics or only logs (a node_exporter job, an
// OpenTelemetry SDK with traces off) is a service all the same.
type services struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// observe remembers the services of a batch's samples, logs and events.
// An entity "svc/instance" is the service svc.
func (s *services) observe(b *signal.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = make(map[string]struct{})
	}
	add := func(entity string) {
		svc, _, _ := strings.Cut(entity, "/")
		if svc == "" || svc == "unknown" || len(s.seen) >= maxServices {
			return
		}
		s.seen[svc] = struct{}{}
	}
	last := ""
	for i := range b.Samples {
		if e := b.Samples[i].Entity; e != last {
			add(e)
			last = e
		}
	}
	for i := range b.Logs {
		if e := b.Logs[i].Entity; e != last {
			add(e)
			last = e
		}
	}
	for i := range b.Events {
		add(b.Events[i].Entity)
	}
}

// merge adds the services seen to t's, sorted, each once.
func (s *services) merge(t signal.Topology) signal.Topology {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(t.Services)
	for svc := range s.seen {
		if !slices.Contains(t.Services, svc) {
			out = append(out, svc)
		}
	}
	slices.Sort(out)
	t.Services = slices.Compact(out)
	return t
}
