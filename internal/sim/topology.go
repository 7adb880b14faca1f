package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Topology describes a simulated system: its services, how they call each
// other and where the traffic enters. It is what a scenario's YAML holds
// (package sim/scenario decodes it) and what Random generates.
type Topology struct {
	// Name names the system; it is the "system" of an exported case.
	Name string `json:"name" yaml:"name"`
	// Hosts is how many machines the instances are spread over, round
	// robin; zero gives one host per three instances.
	Hosts    int           `json:"hosts,omitempty" yaml:"hosts"`
	Services []ServiceSpec `json:"services" yaml:"services"`
	// Entries are the operations users call, with their share of traffic.
	Entries []EntrySpec `json:"entries" yaml:"entries"`
}

// ServiceSpec is one service of a topology.
type ServiceSpec struct {
	Name string `json:"name" yaml:"name"`
	// Kind is web, app, db, cache, queue or external; it decides the
	// service's logs and which faults fit it.
	Kind string `json:"kind" yaml:"kind"`
	// SelfMs is the median of the service's own time per request; zero
	// takes the kind's default.
	SelfMs float64 `json:"self_ms,omitempty" yaml:"self_ms"`
	// Instances is the number of replicas, load-balanced round robin (1).
	Instances int `json:"instances,omitempty" yaml:"instances"`
	// Cores is the CPU capacity of one instance; zero takes the kind's default.
	Cores float64 `json:"cores,omitempty" yaml:"cores"`
	// Pool is the size of the connection pool the service keeps to its
	// databases and caches (20).
	Pool int `json:"pool,omitempty" yaml:"pool"`
	// Consumer is, for a queue, the service that consumes its messages.
	Consumer string `json:"consumer,omitempty" yaml:"consumer"`
	// Calls are what the service calls, in order, for every request it serves.
	Calls []CallSpec `json:"calls,omitempty" yaml:"calls"`
}

// CallSpec is one synchronous call of a service to another.
type CallSpec struct {
	To string `json:"to" yaml:"to"`
	// Op is the operation called; empty derives one from the callee's kind.
	Op string `json:"op,omitempty" yaml:"op"`
	// Prob is the chance the call is made (a cache miss, say); zero means 1.
	Prob float64 `json:"prob,omitempty" yaml:"prob"`
	// Timeout is how long the caller waits; zero takes 1 s for a store,
	// 2 s for a service.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout"`
	// Retries is how often an error response is retried (0..3).
	Retries int `json:"retries,omitempty" yaml:"retries"`
}

// EntrySpec is one operation that users call.
type EntrySpec struct {
	Service string  `json:"service" yaml:"service"`
	Op      string  `json:"op" yaml:"op"`
	Weight  float64 `json:"weight" yaml:"weight"`
}

// kindNames are the kinds' names in a topology, indexed by kind.
var kindNames = [...]string{kindWeb: "web", kindApp: "app", kindDB: "db", kindCache: "cache", kindQueue: "queue", kindExternal: "external"}

func parseKind(s string) (kind, bool) {
	i := slices.Index(kindNames[:], s)
	return kind(i), i >= 0
}

// kindDefaults are a kind's own time, spread, cores and GC pause.
var kindDefaults = [...]struct{ selfMs, sigma, cores, gcMs, memBase float64 }{
	kindWeb:      {3, 0.35, 0.4, 2, 0.40},
	kindApp:      {10, 0.4, 0.5, 3, 0.45},
	kindDB:       {3, 0.5, 0.5, 1, 0.60},
	kindCache:    {0.5, 0.3, 0.1, 0.5, 0.55},
	kindQueue:    {1, 0.3, 0.1, 2, 0.30},
	kindExternal: {40, 0.3, 1, 0, 0},
}

// Limits that keep a topology's call trees small enough to simulate fast.
const (
	maxServices  = 500
	maxInstances = 64
	maxTreeNodes = 400
	maxRetries   = 3
)

// Validate reports every problem of the topology at once.
func (t Topology) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("sim: topology: "+format, a...)) }
	if len(t.Services) == 0 {
		bad("no services")
	}
	if len(t.Services) > maxServices {
		bad("%d services, at most %d", len(t.Services), maxServices)
	}
	if t.Hosts < 0 {
		bad("hosts must not be negative, got %d", t.Hosts)
	}
	specs := make(map[string]*ServiceSpec)
	for i := range t.Services {
		s := &t.Services[i]
		if s.Name == "" || strings.ContainsAny(s.Name, " \t\n,\"/") {
			bad("service %d: name %q must be non-empty without spaces, commas, quotes or slashes", i, s.Name)
		}
		if specs[s.Name] != nil {
			bad("service %q is declared twice", s.Name)
		}
		specs[s.Name] = s
		if _, ok := parseKind(s.Kind); !ok {
			bad("service %q: kind %q is not one of %v", s.Name, s.Kind, kindNames)
		}
		for _, v := range []struct {
			name string
			x    float64
		}{{"self_ms", s.SelfMs}, {"cores", s.Cores}} {
			if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < 0 {
				bad("service %q: %s must be a finite number >= 0, got %v", s.Name, v.name, v.x)
			}
		}
		if s.Instances < 0 || s.Instances > maxInstances {
			bad("service %q: instances must be within 0..%d, got %d", s.Name, maxInstances, s.Instances)
		}
		if s.Pool < 0 {
			bad("service %q: pool must not be negative, got %d", s.Name, s.Pool)
		}
	}
	for _, s := range t.Services {
		if s.Consumer != "" {
			c := specs[s.Consumer]
			switch {
			case s.Kind != "queue":
				bad("service %q: only a queue has a consumer", s.Name)
			case c == nil:
				bad("queue %q: consumer %q is not a service", s.Name, s.Consumer)
			case c.Kind == "external" || c.Kind == "queue":
				bad("queue %q: consumer %q must be a service that runs code, not a %s", s.Name, s.Consumer, c.Kind)
			}
		}
		for _, c := range s.Calls {
			switch {
			case specs[c.To] == nil:
				bad("service %q calls %q, which is not a service", s.Name, c.To)
			case c.To == s.Name:
				bad("service %q calls itself", s.Name)
			}
			if math.IsNaN(c.Prob) || c.Prob < 0 || c.Prob > 1 {
				bad("call %s → %s: prob must be within [0,1], got %v", s.Name, c.To, c.Prob)
			}
			if c.Timeout < 0 {
				bad("call %s → %s: timeout must not be negative, got %s", s.Name, c.To, c.Timeout)
			}
			if c.Retries < 0 || c.Retries > maxRetries {
				bad("call %s → %s: retries must be within 0..%d, got %d", s.Name, c.To, maxRetries, c.Retries)
			}
		}
		if (s.Kind == "external" || s.Kind == "queue" || s.Kind == "cache") && len(s.Calls) > 0 {
			bad("service %q: a %s calls nothing", s.Name, s.Kind)
		}
	}
	if len(t.Entries) == 0 {
		bad("no entries: name at least one operation that users call")
	}
	for i, e := range t.Entries {
		if specs[e.Service] == nil {
			bad("entry %d: service %q is not a service", i, e.Service)
		}
		if math.IsNaN(e.Weight) || e.Weight <= 0 || math.IsInf(e.Weight, 0) {
			bad("entry %d: weight must be a positive number, got %v", i, e.Weight)
		}
	}
	if len(errs) == 0 {
		if cyc := t.cycle(); cyc != nil {
			bad("calls form a cycle: %s", strings.Join(cyc, " → "))
		} else {
			for _, e := range t.Entries {
				if n := t.treeSize(e.Service, specs, 0); n > maxTreeNodes {
					bad("entry %s %s expands to %d calls per request, at most %d", e.Service, e.Op, n, maxTreeNodes)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// cycle returns a cycle of synchronous calls, or nil.
func (t Topology) cycle() []string {
	calls := make(map[string][]string)
	for _, s := range t.Services {
		for _, c := range s.Calls {
			calls[s.Name] = append(calls[s.Name], c.To)
		}
	}
	state := make(map[string]int) // 1 on the path, 2 done
	var path []string
	var visit func(s string) []string
	visit = func(s string) []string {
		state[s] = 1
		path = append(path, s)
		for _, c := range calls[s] {
			switch state[c] {
			case 1:
				i := slices.Index(path, c)
				return append(slices.Clone(path[i:]), c)
			case 0:
				if cyc := visit(c); cyc != nil {
					return cyc
				}
			}
		}
		path = path[:len(path)-1]
		state[s] = 2
		return nil
	}
	for _, s := range t.Services {
		if state[s.Name] == 0 {
			if cyc := visit(s.Name); cyc != nil {
				return cyc
			}
		}
	}
	return nil
}

func (t Topology) treeSize(svc string, specs map[string]*ServiceSpec, n int) int {
	n++
	for _, c := range specs[svc].Calls {
		if n > maxTreeNodes {
			return n
		}
		n = t.treeSize(c.To, specs, n)
	}
	return n
}

// defaultOp names a call's operation after the callee's kind.
func defaultOp(callee *ServiceSpec) string {
	switch callee.Kind {
	case "db":
		return "SELECT " + callee.Name
	case "cache":
		return "GET " + callee.Name + ":{id}"
	case "queue":
		return "PUBLISH " + callee.Name
	case "external":
		return "POST https://" + callee.Name + ".example/v1"
	}
	return "GET /" + callee.Name
}

// compile turns a valid topology into the world's static description.
func (t Topology) compile() ([]service, []edge, []endpoint, []*queue) {
	svcs := make([]service, len(t.Services))
	index := make(map[string]int)
	for i, sp := range t.Services {
		index[sp.Name] = i
	}
	hosts := t.Hosts
	total := 0
	for i, sp := range t.Services {
		k, _ := parseKind(sp.Kind)
		d := kindDefaults[k]
		s := service{name: sp.Name, kind: k, selfMs: sp.SelfMs, sigma: d.sigma, cores: sp.Cores,
			memBase: d.memBase, gcMs: d.gcMs, instances: max(1, sp.Instances), pool: sp.Pool}
		if s.selfMs == 0 {
			s.selfMs = d.selfMs
		}
		if s.cores == 0 {
			s.cores = d.cores
		}
		s.cores *= float64(s.instances)
		// Spread the services' GC cycles so that they do not beat in step.
		s.sawPeriod = 70 + float64((i*37)%230)
		s.memBase += float64(i%5) * 0.02
		if s.pool == 0 {
			s.pool = 20
		}
		s.faultTmpl = kindFaultTemplates[k]
		s.ip = fmt.Sprintf("10.%d.%d.%d", 1+i/4000, (i/250)%16, 10+i%240)
		s.port = kindPorts[k]
		svcs[i] = s
		total += s.instances
	}
	if hosts == 0 {
		hosts = max(1, (total+2)/3)
	}
	h := 0
	for i := range svcs {
		svcs[i].hosts = make([]int, svcs[i].instances)
		for j := range svcs[i].hosts {
			svcs[i].hosts[j] = h % hosts
			h++
		}
	}
	var edges []edge
	var queues []*queue
	for i, sp := range t.Services {
		for _, c := range sp.Calls {
			e := edge{caller: i, callee: index[c.To]}
			if !slices.Contains(edges, e) {
				edges = append(edges, e)
			}
		}
		if sp.Kind == "queue" && sp.Consumer != "" {
			edges = append(edges, edge{caller: i, callee: index[sp.Consumer], async: true})
		}
	}
	var build func(svc int, op string, prob float64, timeout int64, retries int) *node
	build = func(svc int, op string, prob float64, timeout int64, retries int) *node {
		n := &node{svc: svc, op: op, prob: prob, timeout: timeout, retries: retries}
		sp := &t.Services[svc]
		if sp.Kind == "queue" {
			n.publish = sp.Consumer != ""
		}
		for _, c := range sp.Calls {
			callee := index[c.To]
			cs := &t.Services[callee]
			cop := c.Op
			if cop == "" {
				cop = defaultOp(cs)
			}
			p := c.Prob
			if p == 0 {
				p = 1
			}
			to := int64(c.Timeout)
			if to == 0 {
				to = serviceTimeout
				if k := svcs[callee].kind; k == kindDB || k == kindCache || k == kindQueue {
					to = storeTimeout
				}
			}
			n.calls = append(n.calls, build(callee, cop, p, to, c.Retries))
		}
		return n
	}
	var eps []endpoint
	for _, e := range t.Entries {
		eps = append(eps, endpoint{weight: e.Weight, root: build(index[e.Service], e.Op, 1, clientTimeout, 0)})
	}
	for i, sp := range t.Services {
		if sp.Kind == "queue" && sp.Consumer != "" {
			ci := index[sp.Consumer]
			queues = append(queues, &queue{svc: i, consumer: ci, name: sp.Name,
				op: "CONSUME " + sp.Name, node: build(ci, "CONSUME "+sp.Name, 1, clientTimeout, 0)})
		}
	}
	return svcs, edges, eps, queues
}

var kindPorts = [...]int{kindWeb: 8080, kindApp: 8080, kindDB: 5432, kindCache: 6379, kindQueue: 5672, kindExternal: 443}

// Shop is the built-in topology "bigshop": the demo's shop grown to seventeen
// services, with two replicas of its busy services, a search engine, an
// inventory service, a second queue and two external dependencies.
func Shop() Topology {
	svc := func(name, kind string, inst int, calls ...CallSpec) ServiceSpec {
		return ServiceSpec{Name: name, Kind: kind, Instances: inst, Calls: calls}
	}
	c := func(to, op string, prob float64, retries int) CallSpec {
		return CallSpec{To: to, Op: op, Prob: prob, Retries: retries}
	}
	t := Topology{
		Name:  "bigshop",
		Hosts: 6,
		Services: []ServiceSpec{
			svc("frontend", "web", 2, c("gateway", "", 0, 0)),
			svc("gateway", "web", 2, c("user", "GET /session", 0, 1), c("catalog", "GET /products", 0.6, 1),
				c("search", "GET /search", 0.2, 1), c("cart", "GET /cart", 0.3, 1), c("checkout", "POST /checkout", 0.06, 0)),
			svc("user", "app", 2, c("db", "SELECT sessions", 0, 1)),
			svc("catalog", "app", 2, c("cache", "GET product:{id}", 0, 0), c("db", "SELECT products", 0.25, 1)),
			svc("search", "app", 1, c("catalog", "GET /products/{id}", 0.5, 0)),
			svc("cart", "app", 2, c("cache", "HGETALL cart:{id}", 0, 1)),
			svc("checkout", "app", 1, c("cart", "DELETE /cart", 0, 0), c("inventory", "POST /reserve", 0, 1),
				c("payment", "POST /charge", 0, 0), c("orders", "PUBLISH orders", 0, 0)),
			svc("inventory", "app", 1, c("db", "UPDATE stock", 0, 0), c("events", "PUBLISH stock", 0, 0)),
			svc("payment", "app", 1, c("db", "INSERT payments", 0, 0), c("payprovider", "POST /v1/charges", 0, 0)),
			svc("db", "db", 1),
			svc("cache", "cache", 1),
			{Name: "orders", Kind: "queue", Consumer: "notification"},
			{Name: "events", Kind: "queue", Consumer: "analytics"},
			svc("notification", "app", 1, c("mailer", "POST /v3/mail/send", 0, 1)),
			svc("analytics", "app", 1, c("db", "INSERT events", 0, 0)),
			svc("mailer", "external", 1),
			svc("payprovider", "external", 1),
		},
		Entries: []EntrySpec{
			{Service: "frontend", Op: "GET /", Weight: 0.5},
			{Service: "frontend", Op: "GET /product/{id}", Weight: 0.3},
			{Service: "frontend", Op: "POST /cart", Weight: 0.2},
		},
	}
	for i := range t.Services {
		if t.Services[i].Name == "search" {
			t.Services[i].SelfMs = 25
		}
		if t.Services[i].Name == "checkout" {
			t.Services[i].SelfMs = 18
		}
	}
	return t
}

// Builtin returns a built-in topology by name: "bigshop" (Shop).
func Builtin(name string) (Topology, bool) {
	switch name {
	case "bigshop":
		return Shop(), true
	}
	return Topology{}, false
}
