package rca

import (
	"strings"

	"github.com/seerops/seer/internal/signal"
)

// Service is the node of the call graph an entity belongs to: an instance
// "checkout/checkout-1" belongs to "checkout"; services and hosts are their
// own node.
func Service(entity string) string {
	if strings.HasPrefix(entity, "host:") {
		return entity
	}
	if i := strings.IndexByte(entity, '/'); i > 0 {
		return entity[:i]
	}
	return entity
}

// Graph is the call graph in the form the analysis walks: callees and
// callers of every service. The zero Graph knows no service.
type Graph struct {
	callees map[string][]string
	callers map[string][]string
}

// NewGraph builds the graph of a topology; self-calls are ignored because
// they carry no propagation direction.
func NewGraph(t signal.Topology) *Graph {
	g := &Graph{callees: make(map[string][]string), callers: make(map[string][]string)}
	for _, s := range t.Services {
		g.add(Service(s))
	}
	for _, e := range t.Edges {
		a, b := Service(e.Caller), Service(e.Callee)
		if a == "" || b == "" || a == b {
			continue
		}
		g.add(a)
		g.add(b)
		g.callees[a] = append(g.callees[a], b)
		g.callers[b] = append(g.callers[b], a)
	}
	return g
}

func (g *Graph) add(s string) {
	if s == "" {
		return
	}
	if _, ok := g.callees[s]; !ok {
		g.callees[s] = nil
		g.callers[s] = nil
	}
}

// Empty reports whether the graph knows no service at all.
func (g *Graph) Empty() bool { return g == nil || len(g.callees) == 0 }

// Has reports whether the service is a node of the graph.
func (g *Graph) Has(service string) bool {
	if g == nil {
		return false
	}
	_, ok := g.callees[service]
	return ok
}

// Services lists the nodes, in no particular order.
func (g *Graph) Services() []string {
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.callees))
	for s := range g.callees {
		out = append(out, s)
	}
	return out
}

// Descendants maps every service reachable from the given one by following
// calls (caller to callee) within maxHops (0 means no limit) to its distance.
func (g *Graph) Descendants(service string, maxHops int) map[string]int {
	return g.walk(service, maxHops, g.callees, nil)
}

// Ancestors maps every service that reaches the given one by calls within
// maxHops (0 means no limit) to its distance.
func (g *Graph) Ancestors(service string, maxHops int) map[string]int {
	return g.walk(service, maxHops, g.callers, nil)
}

// Near maps every service within maxHops of the given one, ignoring the
// direction of calls, to its distance.
func (g *Graph) Near(service string, maxHops int) map[string]int {
	return g.walk(service, maxHops, g.callees, g.callers)
}

// walk is a breadth-first search over one or two adjacency maps; the start
// itself is not in the result.
func (g *Graph) walk(start string, maxHops int, a, b map[string][]string) map[string]int {
	dist := make(map[string]int)
	if !g.Has(start) {
		return dist
	}
	frontier := []string{start}
	seen := map[string]bool{start: true}
	for d := 1; len(frontier) > 0 && (maxHops <= 0 || d <= maxHops); d++ {
		var next []string
		for _, s := range frontier {
			for _, m := range [2]map[string][]string{a, b} {
				for _, n := range m[s] {
					if !seen[n] {
						seen[n] = true
						dist[n] = d
						next = append(next, n)
					}
				}
			}
		}
		frontier = next
	}
	return dist
}
