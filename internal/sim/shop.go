package sim

import (
	"fmt"
	"time"
)

// kind is what a service is, which decides the look of its logs.
type kind uint8

const (
	kindWeb kind = iota
	kindApp
	kindDB
	kindCache
	kindQueue
	kindExternal // a dependency outside the system: seen only by its callers
)

// service is the static description of one service of the shop.
type service struct {
	name string
	kind kind
	// selfMs is the median of the service's own time per request, and sigma
	// the spread of its log-normal.
	selfMs, sigma float64
	// cores turns CPU-seconds of work into utilisation.
	cores float64
	// memBase is the memory level between GC cycles, sawPeriod the seconds of
	// one GC sawtooth and gcMs the median GC pause.
	memBase, sawPeriod, gcMs float64
	ip                       string
	port                     int
	// ops are the operations the service serves, for its routine logs.
	ops []string
	// instances are the replicas, hosts the host of each.
	instances int
	hosts     []int
	// pool is the size of the connection pool to the service's stores.
	pool int
	// faultTmpl is the exception an errors fault makes it log.
	faultTmpl string
}

// node is one call in an endpoint's call tree.
type node struct {
	svc int
	op  string
	// prob is the chance that the call is made (a cache miss, say).
	prob    float64
	timeout int64 // ns
	retries int   // how often the caller retries an error response
	publish bool  // a successful call enqueues a message for the consumer
	calls   []*node
}

// endpoint is one operation of the front end, with its share of the traffic.
type endpoint struct {
	weight float64
	root   *node
}

// edge is a declared dependency, caller → callee.
type edge struct {
	caller, callee int
	async          bool
}

// The service indices of the shop, in the order of Services.
const (
	svcFrontend = iota
	svcGateway
	svcCatalog
	svcCart
	svcCheckout
	svcUser
	svcPayment
	svcDB
	svcCache
	svcQueue
	svcNotification
	numServices
)

// shopServices describes the eleven services.
func shopServices() []service {
	s := []service{
		{name: "frontend", kind: kindWeb, selfMs: 3, sigma: 0.35, cores: 0.4, memBase: 0.40, sawPeriod: 70, gcMs: 2},
		{name: "gateway", kind: kindWeb, selfMs: 2, sigma: 0.3, cores: 0.25, memBase: 0.35, sawPeriod: 85, gcMs: 1.5},
		{name: "catalog", kind: kindApp, selfMs: 10, sigma: 0.4, cores: 1, memBase: 0.50, sawPeriod: 110, gcMs: 4},
		{name: "cart", kind: kindApp, selfMs: 6, sigma: 0.35, cores: 0.25, memBase: 0.45, sawPeriod: 95, gcMs: 3},
		{name: "checkout", kind: kindApp, selfMs: 18, sigma: 0.4, cores: 0.125, memBase: 0.50, sawPeriod: 130, gcMs: 4},
		{name: "user", kind: kindApp, selfMs: 5, sigma: 0.35, cores: 0.25, memBase: 0.40, sawPeriod: 100, gcMs: 3},
		{name: "payment", kind: kindApp, selfMs: 15, sigma: 0.45, cores: 0.125, memBase: 0.45, sawPeriod: 120, gcMs: 3.5},
		{name: "db", kind: kindDB, selfMs: 3, sigma: 0.5, cores: 0.25, memBase: 0.60, sawPeriod: 300, gcMs: 1},
		{name: "cache", kind: kindCache, selfMs: 0.5, sigma: 0.3, cores: 0.06, memBase: 0.55, sawPeriod: 200, gcMs: 0.5},
		{name: "queue", kind: kindQueue, selfMs: 1, sigma: 0.3, cores: 0.01, memBase: 0.30, sawPeriod: 150, gcMs: 2},
		{name: "notification", kind: kindApp, selfMs: 12, sigma: 0.4, cores: 0.1, memBase: 0.40, sawPeriod: 90, gcMs: 3},
	}
	for i := range s {
		s[i].ip = fmt.Sprintf("10.0.%d.%d", 1+i/4, 10+i)
		switch s[i].kind {
		case kindDB:
			s[i].port = 5432
		case kindCache:
			s[i].port = 6379
		case kindQueue:
			s[i].port = 5672
		default:
			s[i].port = 8080
		}
		s[i].instances, s[i].hosts, s[i].pool = 1, []int{i / 3}, 20
		s[i].faultTmpl = faultErrorTemplates[i]
	}
	return s
}

// shopEdges is the declared call graph.
func shopEdges() []edge {
	return []edge{
		{caller: svcFrontend, callee: svcGateway},
		{caller: svcGateway, callee: svcCatalog},
		{caller: svcGateway, callee: svcCart},
		{caller: svcGateway, callee: svcCheckout},
		{caller: svcGateway, callee: svcUser},
		{caller: svcCatalog, callee: svcDB},
		{caller: svcCatalog, callee: svcCache},
		{caller: svcCart, callee: svcCache},
		{caller: svcUser, callee: svcDB},
		{caller: svcCheckout, callee: svcPayment},
		{caller: svcCheckout, callee: svcCart},
		{caller: svcCheckout, callee: svcQueue},
		{caller: svcPayment, callee: svcDB},
		{caller: svcQueue, callee: svcNotification, async: true},
	}
}

// Timeouts of the calls: a store is given a second, a service two, the
// gateway three, so that only a large slow-down turns into timeouts.
const (
	storeTimeout   = int64(time.Second)
	serviceTimeout = int64(2 * time.Second)
	gatewayTimeout = int64(3 * time.Second)
	clientTimeout  = int64(5 * time.Second)
)

func call(svc int, op string, timeout int64, calls ...*node) *node {
	return &node{svc: svc, op: op, prob: 1, timeout: timeout, calls: calls}
}

func (n *node) retried() *node            { n.retries = 1; return n }
func (n *node) sometimes(p float64) *node { n.prob = p; return n }

// shopEndpoints are the front end's operations, their traffic mix and the
// path each takes through the services.
func shopEndpoints() []endpoint {
	db := func(op string) *node { return call(svcDB, op, storeTimeout) }
	cache := func(op string) *node { return call(svcCache, op, storeTimeout) }
	session := func() *node {
		return call(svcUser, "GET /session", serviceTimeout, db("SELECT sessions").retried()).retried()
	}
	product := func() *node {
		return call(svcCatalog, "GET /products/{id}", serviceTimeout,
			cache("GET product:{id}"), db("SELECT product").retried().sometimes(0.2)).retried()
	}
	front := func(op, gwOp string, calls ...*node) *node {
		return call(svcFrontend, op, clientTimeout, call(svcGateway, gwOp, gatewayTimeout, calls...))
	}
	publish := call(svcQueue, "PUBLISH orders", storeTimeout)
	publish.publish = true
	return []endpoint{
		{weight: 0.35, root: front("GET /products", "GET /api/products",
			call(svcCatalog, "GET /products", serviceTimeout,
				cache("GET products:page"), db("SELECT products").retried().sometimes(0.3)).retried())},
		{weight: 0.25, root: front("GET /product/{id}", "GET /api/products/{id}", product())},
		{weight: 0.12, root: front("GET /cart", "GET /api/cart",
			session(), call(svcCart, "GET /cart", serviceTimeout, cache("HGETALL cart:{id}")).retried())},
		{weight: 0.10, root: front("POST /cart", "POST /api/cart",
			session(), product(), call(svcCart, "POST /cart/items", serviceTimeout, cache("HSET cart:{id}")))},
		{weight: 0.12, root: front("POST /login", "POST /api/login",
			call(svcUser, "POST /login", serviceTimeout, db("SELECT users").retried(), db("UPDATE sessions")))},
		{weight: 0.06, root: front("POST /checkout", "POST /api/checkout",
			session(),
			call(svcCheckout, "POST /checkout", serviceTimeout,
				call(svcCart, "GET /cart", serviceTimeout, cache("HGETALL cart:{id}")),
				call(svcPayment, "POST /charge", serviceTimeout, db("INSERT payments")),
				call(svcCart, "DELETE /cart", serviceTimeout, cache("DEL cart:{id}")),
				publish))},
	}
}

// consumeOp is the notification service's operation on each message.
const consumeOp = "CONSUME orders"
