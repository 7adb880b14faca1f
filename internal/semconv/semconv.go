// Package semconv says what a metric series measures: the quantity (request
// rate, error ratio, latency, CPU saturation, ...), the direction in which it
// is bad, and whether trouble in it stays where the fault is or spreads along
// the call graph. It is declared once, from the OpenTelemetry semantic
// conventions and Prometheus naming (units and suffixes such as _seconds,
// _bytes, _total, _ratio), and users extend it in configuration. Everything
// that reads meaning into a metric's name reads it here, by whole tokens of
// the name, never by substrings.
package semconv

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Quantity is what a series measures.
type Quantity string

// The quantities seer tells apart.
const (
	Unknown      Quantity = ""
	RequestRate  Quantity = "request_rate"  // requests, calls or operations per unit of time
	ErrorRatio   Quantity = "error_ratio"   // share (or rate) of failed requests
	SuccessRatio Quantity = "success_ratio" // share of good requests, availability
	ErrorCount   Quantity = "error_count"   // error-level log lines, exceptions
	ErrorOrigin  Quantity = "error_origin"  // errors that began in the entity (not in a callee)
	Latency      Quantity = "latency"       // time to serve a request, as its caller sees it
	SelfTime     Quantity = "self_time"     // time spent in the entity itself, not its callees
	NetDelay     Quantity = "net_delay"     // time between the caller's and the callee's view of a call
	CPU          Quantity = "cpu"
	Memory       Quantity = "memory"
	GC           Quantity = "gc"
	Disk         Quantity = "disk"
	FileDesc     Quantity = "fds"
	Pool         Quantity = "pool" // connection and thread pools, queues, backlogs
	Network      Quantity = "network"
	IO           Quantity = "io"          // disk reads and writes done: work, like network bytes
	Retransmits  Quantity = "retransmits" // lost, dropped and retransmitted packets
	Restarts     Quantity = "restarts"
	Up           Quantity = "up" // 1 while the target answers
)

// Direction is the way a series moves when things go wrong.
type Direction int8

// Directions.
const (
	Either Direction = 0
	Rise   Direction = 1
	Fall   Direction = -1
)

// String is "up", "down" or "both".
func (d Direction) String() string {
	switch d {
	case Rise:
		return "up"
	case Fall:
		return "down"
	}
	return "both"
}

// Meaning is what the table says of one series.
type Meaning struct {
	Quantity Quantity
	// Bad is the direction in which the quantity is trouble.
	Bad Direction
	// Peer is the entity at the other end of a call the series measures
	// (a client-side metric of calls to a callee), when the name or labels
	// say.
	Peer string
	// Host is set when the series measures the host the entity runs on,
	// not the entity: node_exporter's node_* and OpenTelemetry's system.*
	// namespaces (a pod's node_cpu_usage is its node's).
	Host bool
	// Unit is the unit of time the value is in ("s" or "ms") for time
	// quantities whose name says it; empty otherwise.
	Unit string
	// Saturation is set when the value is a share of a limit (0..1 or
	// 0..100 %), so that it can be forecast to exhaustion.
	Saturation bool
	// Limit is the value a saturation cannot exceed: 1 for a ratio, 100
	// for a percentage; 0 when the series is no saturation.
	Limit float64
}

// Floor is the smallest change of the series anyone notices, where its
// unit says: a millisecond of a time. 0 when the unit is unknown.
func (m Meaning) Floor() float64 {
	switch m.Unit {
	case "s":
		return 1e-3
	case "ms":
		return 1
	}
	return 0
}

// Judged tells whether a change of the series is news by itself: its
// quantity is known, is no mere throughput (network bytes and packets, disk
// reads and writes move with the work a host is given), and has a direction
// that is bad, or is
// the request rate, whose fall and surge both are. Anomalies of other series
// (counters of unknown meaning, runtime internals) are learned and read by
// investigations but open no incident.
func (m Meaning) Judged() bool {
	return m.Quantity != Unknown && m.Quantity != Network && m.Quantity != IO && (m.Bad != Either || m.Quantity == RequestRate)
}

// Local tells whether trouble in the quantity stays where the fault is: a
// caller waiting on a slow callee does not burn its own CPU, fill its own
// disk or log its callee's exceptions as its own origin, but it does slow
// down and fail with it.
func (q Quantity) Local() bool {
	switch q {
	case CPU, Memory, GC, Disk, FileDesc, Retransmits, Restarts, Up, SelfTime, NetDelay, ErrorCount, ErrorOrigin:
		return true
	}
	return false
}

// Resource tells whether the quantity is the use of a resource.
func (q Quantity) Resource() bool {
	switch q {
	case CPU, Memory, GC, Disk, FileDesc, Pool, Network, IO, Retransmits:
		return true
	}
	return false
}

// Family groups quantities the way a symptom spreads along a call path:
// "latency", "errors", "traffic", "resource" or "other".
func (q Quantity) Family() string {
	switch q {
	case Latency, SelfTime, NetDelay:
		return "latency"
	case ErrorRatio, SuccessRatio, ErrorCount, ErrorOrigin, Up, Restarts:
		return "errors"
	case RequestRate:
		return "traffic"
	case CPU, Memory, GC, Disk, FileDesc, Pool, Network, IO, Retransmits:
		return "resource"
	}
	return "other"
}

// Rule is one user rule of the table: series whose name matches take the
// quantity and direction given. Peer, when set, is a template ($1, ${name})
// of the regexp's groups naming the callee the series measures calls to.
type Rule struct {
	Match    string   `yaml:"match"`
	Quantity Quantity `yaml:"quantity"`
	// Bad is "up", "down" or "both"; empty takes the quantity's usual one.
	Bad        string `yaml:"bad"`
	Peer       string `yaml:"peer"`
	Saturation bool   `yaml:"saturation"`
	// Limit is the value a saturation cannot exceed; 0 means 1.
	Limit float64 `yaml:"limit"`
	re    *regexp.Regexp
}

// Config extends the built-in table.
type Config struct {
	// Rules are tried in order before the built-in conventions; the first
	// whose regexp matches the whole name wins.
	Rules []Rule `yaml:"rules"`
	// Ratios are saturations derived from two series, added to the
	// built-in ones (Ratios).
	Ratios []Ratio `yaml:"ratios"`
}

// Ratio is a saturation derived from the series that hold its parts: Name
// is 1 - Free/Total, for each label set the two parts share (a file system
// per mount point). The derived name must mean a saturation in this table.
type Ratio struct {
	Name  string `yaml:"name"`
	Free  string `yaml:"free"`
	Total string `yaml:"total"`
}

// builtinRatios are the saturations node_exporter and the OpenTelemetry
// host metrics have the parts of but do not export.
var builtinRatios = []Ratio{
	{Name: "node_filesystem_utilization", Free: "node_filesystem_avail_bytes", Total: "node_filesystem_size_bytes"},
	{Name: "node_memory_utilization", Free: "node_memory_MemAvailable_bytes", Total: "node_memory_MemTotal_bytes"},
}

// Validate reports every rule that does not compile or names an unknown
// quantity.
func (c Config) Validate() error {
	var errs []error
	for i, r := range c.Rules {
		if _, err := regexp.Compile("^(?:" + r.Match + ")$"); err != nil {
			errs = append(errs, fmt.Errorf("semantics.rules[%d].match: %w", i, err))
		}
		if _, ok := usual[r.Quantity]; !ok {
			errs = append(errs, fmt.Errorf("semantics.rules[%d].quantity %q is not one of %s", i, r.Quantity, quantityNames()))
		}
		if _, err := direction(r.Bad); err != nil {
			errs = append(errs, fmt.Errorf("semantics.rules[%d].bad: %w", i, err))
		}
	}
	for i, r := range c.Ratios {
		if r.Name == "" || r.Free == "" || r.Total == "" || r.Free == r.Total {
			errs = append(errs, fmt.Errorf("semantics.ratios[%d]: name, free and total are required, free and total differ", i))
		}
	}
	return errors.Join(errs...)
}

// usual is each quantity's usual bad direction.
var usual = map[Quantity]Direction{
	RequestRate: Either, ErrorRatio: Rise, SuccessRatio: Fall, ErrorCount: Rise, ErrorOrigin: Rise, Latency: Rise, SelfTime: Rise, NetDelay: Rise,
	CPU: Rise, Memory: Rise, GC: Rise, Disk: Rise, FileDesc: Rise, Pool: Rise, Network: Either, IO: Either, Retransmits: Rise, Restarts: Rise, Up: Fall,
	Unknown: Either,
}

func quantityNames() string {
	var out []string
	for q := range usual {
		if q != Unknown {
			out = append(out, string(q))
		}
	}
	return strings.Join(slices.Sorted(slices.Values(out)), ", ")
}

func direction(s string) (Direction, error) {
	switch s {
	case "up":
		return Rise, nil
	case "down":
		return Fall, nil
	case "both", "":
		return Either, nil
	}
	return Either, fmt.Errorf("%q is not up, down or both", s)
}

// Table maps series to meanings. It is safe for concurrent use.
type Table struct {
	rules  []Rule
	ratios []Ratio
	parts  map[string]part
	mu     sync.Mutex
	memo   map[string]Meaning
}

// New returns the built-in table extended by cfg's rules.
func New(cfg Config) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Table{memo: map[string]Meaning{}, parts: map[string]part{}}
	for _, r := range cfg.Rules {
		r.re = regexp.MustCompile("^(?:" + r.Match + ")$")
		t.rules = append(t.rules, r)
	}
	t.ratios = append(slices.Clone(cfg.Ratios), builtinRatios...)
	for i, r := range t.ratios {
		if _, ok := t.parts[r.Free]; !ok {
			t.parts[r.Free] = part{ratio: i}
		}
		if _, ok := t.parts[r.Total]; !ok {
			t.parts[r.Total] = part{ratio: i, total: true}
		}
	}
	return t, nil
}

type part struct {
	ratio int
	total bool
}

// PartOf tells whether the series name is a part of a derived saturation:
// which one, and whether it is the total (else the free part).
func (t *Table) PartOf(name string) (r Ratio, total, ok bool) {
	if t == nil {
		t = Default
	}
	p, ok := t.parts[name]
	if !ok {
		return Ratio{}, false, false
	}
	return t.ratios[p.ratio], p.total, true
}

// Default is the built-in table alone.
var Default = func() *Table { t, _ := New(Config{}); return t }()

// maxMemo bounds the memo: names beyond it are worked out every time.
const maxMemo = 1 << 16

// Of is what the series name means. Labels may name the peer of a
// client-side series (peer.service, server.address, destination_service,
// destination_workload).
//
// Labels change the meaning where they say which part of a whole a series
// counts: node_cpu_seconds_total{mode="idle"} is CPU left over, bad when it
// falls, where mode="user" is CPU used.
func (t *Table) Of(name string, labels map[string]string) Meaning {
	m := t.ofName(name)
	if m.Quantity.Resource() && m.Bad == Rise {
		for _, k := range freeLabels {
			if v := labels[k]; v != "" && freeWords[strings.ToLower(v)] {
				m.Bad = Fall
				break
			}
		}
	}
	if m.Peer == "" {
		for _, k := range peerLabels {
			if v := labels[k]; v != "" {
				m.Peer = v
				break
			}
		}
	}
	return m
}

// freeLabels name the part of a resource a series counts (node_exporter's
// mode, OpenTelemetry's system.cpu.state / system.memory.state); freeWords
// are the parts that are left over rather than used.
var (
	freeLabels = []string{"mode", "state", "system.cpu.state", "cpu.state", "system.memory.state", "system.filesystem.state"}
	freeWords  = map[string]bool{"idle": true, "free": true, "available": true, "avail": true, "unused": true}
)

// peerLabels name the callee of a client-side series, in the order tried.
var peerLabels = []string{"peer.service", "peer", "destination_service_name", "destination_workload", "destination_service", "server.address"}

func (t *Table) ofName(name string) Meaning {
	if t == nil {
		t = Default
	}
	t.mu.Lock()
	m, ok := t.memo[name]
	t.mu.Unlock()
	if ok {
		return m
	}
	m = t.work(name)
	t.mu.Lock()
	if len(t.memo) < maxMemo {
		t.memo[name] = m
	}
	t.mu.Unlock()
	return m
}

func (t *Table) work(name string) Meaning {
	for _, r := range t.rules {
		idx := r.re.FindStringSubmatchIndex(name)
		if idx == nil {
			continue
		}
		m := Meaning{Quantity: r.Quantity, Bad: usual[r.Quantity], Saturation: r.Saturation}
		if r.Saturation {
			m.Limit = r.Limit
			if m.Limit == 0 {
				m.Limit = 1
			}
		}
		if r.Bad != "" {
			m.Bad, _ = direction(r.Bad)
		}
		if r.Peer != "" {
			m.Peer = string(r.re.ExpandString(nil, r.Peer, name, idx))
		}
		if m.Quantity.Family() == "latency" {
			m.Unit = timeUnit(tokens(name))
		}
		return m
	}
	return builtin(name)
}

// tokens splits a metric name into lower-case words at the separators of
// Prometheus and OpenTelemetry names and at camelCase boundaries.
func tokens(name string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case r == '_' || r == '.' || r == '-' || r == '/' || r == ':' || r == ' ' || r == '{' || r == '}':
			flush()
			prevLower = false
		case r >= 'A' && r <= 'Z':
			if prevLower {
				flush()
			}
			b.WriteRune(r + ('a' - 'A'))
			prevLower = false
		default:
			b.WriteRune(r)
			prevLower = r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		}
	}
	flush()
	return out
}

// builtin reads a name by the conventions of OpenTelemetry and Prometheus.
func builtin(name string) Meaning {
	tok := tokens(name)
	has := func(words ...string) bool {
		for _, t := range tok {
			for _, w := range words {
				if t == w {
					return true
				}
			}
		}
		return false
	}
	last := ""
	if len(tok) > 0 {
		last = tok[len(tok)-1]
	}
	share := has("ratio", "utilization", "utilisation", "pct", "percent", "usage") && !has("bytes", "seconds", "mi", "m")
	unit := timeUnit(tok)
	host := len(tok) > 1 && (tok[0] == "node" || tok[0] == "system" || tok[0] == "host")
	mk := func(q Quantity) Meaning {
		m := Meaning{Quantity: q, Bad: usual[q], Saturation: share && q.Resource(), Host: host}
		if q.Family() == "latency" {
			m.Unit = unit
		}
		if m.Saturation {
			m.Limit = 1
			if has("pct", "percent") {
				m.Limit = 100
			}
		}
		return m
	}
	free := has("free", "avail", "available", "remaining", "idle")
	disk := has("disk", "disks", "diskio", "blkio")
	switch {
	// The monitoring pipeline's own work (a scrape's or a collector's
	// duration, samples scraped) says nothing of the target.
	case has("scrape", "scraped"):
		return mk(Unknown)
	case last == "up" || len(tok) == 1 && (last == "health" || last == "healthy" || last == "ready"),
		has("probe") && has("success"):
		return mk(Up)
	case has("restart", "restarts", "oom", "crash", "crashes", "killed"):
		return mk(Restarts)
	// GC pressure is time or count; an amount of bytes (the heap size that
	// triggers the next collection) is no trouble by itself.
	case (has("gc", "gogc") || has("garbage")) && !has("bytes"):
		return mk(GC)
	// Time a disk spent busy or waiting is how saturated it is; reads and
	// writes done are the work it was given.
	case disk && has("time", "seconds", "busy", "weighted", "util", "utilization"):
		return mk(Disk)
	case disk && !free && has("read", "reads", "write", "writes", "written", "merged", "ios", "io", "sectors", "ops", "completed", "discard", "discarded", "flush"):
		return mk(IO)
	// Sockets and their buffers come and go with the traffic.
	case has("sockstat", "sockets"):
		return mk(Network)
	case has("retrans", "retransmits", "retransmitted", "retranssegs", "drop", "drops", "dropped", "loss", "lost", "discards"):
		return mk(Retransmits)
	case has("cpu", "cpus", "throttled", "throttling", "load1", "load5", "load15"):
		if free {
			m := mk(CPU)
			m.Bad, m.Saturation, m.Limit = Fall, false, 0
			return m
		}
		return mk(CPU)
	// A count or rate of requests measured by a histogram of their
	// durations (http.server.request.duration_rate) is traffic.
	case (last == "rate" || last == "count" || last == "total") && has("duration", "latency", "seconds", "time") && !has("error", "errors", "failed", "failures"):
		return mk(RequestRate)
	case has("error", "errors", "err", "failed", "failure", "failures", "fail", "exception", "exceptions", "5xx", "fault", "faults"):
		if has("log", "logs", "lines") {
			return mk(ErrorCount)
		}
		if has("origin") {
			return mk(ErrorOrigin)
		}
		return mk(ErrorRatio)
	case has("success", "successful", "availability", "apdex", "ok"):
		return mk(SuccessRatio)
	case has("selftime", "self") && has("time", "duration", "selftime"):
		return mk(SelfTime)
	case has("gap", "netdelay"):
		return mk(NetDelay)
	case has("latency", "duration", "delay", "rt", "p50", "p75", "p90", "p95", "p99", "p999", "quantile", "response") ||
		(last == "seconds" || last == "ms" || last == "s") && has("request", "requests", "call", "calls", "rpc", "http", "grpc", "server", "client"):
		return mk(Latency)
	case has("memory", "mem", "heap", "rss", "swap", "memavailable", "memfree"):
		if free || has("memavailable", "memfree") {
			return Meaning{Quantity: Memory, Bad: Fall, Host: host}
		}
		return mk(Memory)
	case has("disk", "filesystem", "fs", "inode", "inodes", "volume", "storage"):
		if free {
			return Meaning{Quantity: Disk, Bad: Fall, Host: host}
		}
		return mk(Disk)
	case has("fd", "fds", "filefd", "descriptors"):
		return mk(FileDesc)
	case has("pool", "connections", "conns", "conn", "threads", "thread", "queue", "backlog", "lag", "pending", "inflight", "waiting"):
		return mk(Pool)
	case has("request", "requests", "rps", "qps", "throughput", "calls", "ops", "operations", "workload", "traffic", "hits"):
		return mk(RequestRate)
	case has("network", "net", "receive", "transmit", "rx", "tx", "packets", "octets") || has("bytes") && has("sent", "received"):
		return mk(Network)
	}
	return mk(Unknown)
}

// timeUnit is the unit of time a name's last word says ("s", "ms"), or "".
func timeUnit(tok []string) string {
	if len(tok) == 0 {
		return ""
	}
	switch tok[len(tok)-1] {
	case "seconds", "s":
		return "s"
	case "ms", "milliseconds":
		return "ms"
	}
	return ""
}
