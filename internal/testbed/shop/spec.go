package shop

import "slices"

// Spec is one service of the shop: its name and the services it calls.
type Spec struct {
	Name  string
	Calls []string
	// Disk says the service writes to its data directory in the course of
	// its work (a database file, a journal, a ledger), so a full disk makes
	// its requests fail.
	Disk bool
}

// Specs is the shop, callers before callees:
//
//	users → frontend → gateway → catalog → cache, db
//	                           → cart → cache
//	                           → checkout → cart, payment, db, queue
//	shipping (a worker) → queue, db
func Specs() []Spec {
	return []Spec{
		{Name: "frontend", Calls: []string{"gateway"}},
		{Name: "gateway", Calls: []string{"catalog", "cart", "checkout"}},
		{Name: "catalog", Calls: []string{"cache", "db"}},
		{Name: "cart", Calls: []string{"cache"}},
		{Name: "checkout", Calls: []string{"cart", "payment", "db", "queue"}},
		{Name: "payment", Disk: true},
		{Name: "shipping", Calls: []string{"queue", "db"}},
		{Name: "db", Disk: true},
		{Name: "cache"},
		{Name: "queue", Disk: true},
	}
}

// Lookup returns the spec of a service by name.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(Specs(), func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return Specs()[i], true
}

// Config is a service's run-time configuration, read from config.json in
// its directory at start and on POST /control/reload: what a bad config
// push changes.
type Config struct {
	// MaxInFlight bounds the requests served at once; a request that
	// waits QueueTimeoutMS for a slot is refused with 503.
	MaxInFlight    int `json:"max_in_flight"`
	QueueTimeoutMS int `json:"queue_timeout_ms"`
	// TimeoutMS bounds each call to another service.
	TimeoutMS int `json:"timeout_ms"`
}

// DefaultConfig is the good configuration.
func DefaultConfig() Config {
	return Config{MaxInFlight: 64, QueueTimeoutMS: 1000, TimeoutMS: 3000}
}

// BadConfig is the bad push: a pool of one, as from a typo in a size.
func BadConfig() Config {
	return Config{MaxInFlight: 1, QueueTimeoutMS: 20, TimeoutMS: 3000}
}

// Builds a service can be started as: the good one, and a faulty one that
// fails a share of its requests (the bad deploy).
const (
	BuildGood   = "good"
	BuildFaulty = "faulty"
)

// Version is the version a build reports (service.version).
func Version(build string) string {
	if build == BuildFaulty {
		return "1.1.0"
	}
	return "1.0.0"
}
