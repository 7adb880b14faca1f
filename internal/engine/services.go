package engine

import (
	"cmp"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/seerops/seer/internal/signal"
)

// maxServices bounds the services remembered from metrics, logs and events,
// and maxPlacements the instances placed on hosts.
const (
	maxServices   = 10000
	maxPlacements = 20000
)

// services are the services seen in any signal, not only in traces: a
// service that sends only metrics or only logs (a node_exporter job, an
// OpenTelemetry SDK with traces off) is a service all the same. Where a
// signal says which instance of a service sent it and on which host that
// instance runs, the placement service → instance → host is remembered too.
type services struct {
	mu     sync.Mutex
	seen   map[string]struct{}
	placed map[signal.Placement]struct{}
	cut    int // placements not remembered for maxPlacements
}

// observe remembers the services of a batch's samples, logs, spans and
// events, and their placements. An entity "svc/instance" is the service
// svc.
func (s *services) observe(b *signal.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = make(map[string]struct{})
		s.placed = make(map[signal.Placement]struct{})
	}
	add := func(entity string) {
		svc, _, _ := strings.Cut(entity, "/")
		if svc == "" || svc == "unknown" || len(s.seen) >= maxServices {
			return
		}
		s.seen[svc] = struct{}{}
	}
	last := ""
	// A batch comes from few sources: a placement is read once for each
	// run of signals of the same entity, instance and host.
	var lastEntity, lastInst, lastHost string
	placedOnce := false
	place := func(entity string, attrs map[string]string) {
		inst, host := attrs["instance"], attrs[signal.AttrHostName]
		if placedOnce && entity == lastEntity && inst == lastInst && host == lastHost {
			return
		}
		placedOnce, lastEntity, lastInst, lastHost = true, entity, inst, host
		p, ok := placementOf(entity, attrs)
		if !ok {
			return
		}
		if _, known := s.placed[p]; known {
			return
		}
		if len(s.placed) >= maxPlacements {
			s.cut++
			return
		}
		s.placed[p] = struct{}{}
	}
	for i := range b.Samples {
		if e := b.Samples[i].Entity; e != last {
			add(e)
			last = e
		}
		place(b.Samples[i].Entity, b.Samples[i].Labels)
	}
	for i := range b.Logs {
		if e := b.Logs[i].Entity; e != last {
			add(e)
			last = e
		}
		place(b.Logs[i].Entity, b.Logs[i].Attrs)
	}
	for i := range b.Spans {
		place(b.Spans[i].Service, b.Spans[i].Attrs)
	}
	for i := range b.Events {
		add(b.Events[i].Entity)
	}
}

// placementOf reads where a signal's instance runs: the instance from the
// entity ("svc/instance") or its instance label, the host from its
// host.name label, else from a Prometheus instance "host:port". A host's
// own signals, and signals that name no host, place nothing.
func placementOf(entity string, attrs map[string]string) (signal.Placement, bool) {
	if entity == "" || strings.HasPrefix(entity, "host:") {
		return signal.Placement{}, false
	}
	svc, inst, _ := strings.Cut(entity, "/")
	inst = cmp.Or(inst, attrs["instance"])
	host := attrs[signal.AttrHostName]
	if host == "" && inst != "" {
		if h, _, err := net.SplitHostPort(inst); err == nil {
			host = h
		}
	}
	if svc == "unknown" || host == "" || signal.CheckEntity(signal.HostEntity(host)) != nil {
		return signal.Placement{}, false
	}
	return signal.Placement{Service: svc, Instance: inst, Host: signal.HostEntity(host)}, true
}

// merge adds the services seen and the placements learned to t's, sorted,
// each once.
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
	t.Placements = s.placementsLocked(t.Placements)
	return t
}

// cutCount is how many placements were not remembered for maxPlacements.
func (s *services) cutCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cut
}

// placements is declared with the placements learned, sorted, each once.
func (s *services) placements(declared []signal.Placement) []signal.Placement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placementsLocked(declared)
}

func (s *services) placementsLocked(declared []signal.Placement) []signal.Placement {
	if len(s.placed) == 0 {
		return declared
	}
	ps := append(slices.Clone(declared), slices.Collect(maps.Keys(s.placed))...)
	slices.SortFunc(ps, func(a, b signal.Placement) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Instance, b.Instance), cmp.Compare(a.Host, b.Host))
	})
	return slices.Compact(ps)
}
