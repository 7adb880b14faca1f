package sim

import (
	"strconv"
	"strings"

	"github.com/seerops/seer/internal/signal"
)

// Routine info lines by kind of service. Placeholders in braces are filled
// with fresh values on every line, so that a template miner has variables to
// find: {id} {uid} {oid} {pid} {ms} {n} {pct} {bytes} {ip} {port} {hex}
// {table} {op} {svc} {line} {mb}.
var infoTemplates = [...][]string{
	kindWeb: {
		`{ip} - - "{op} HTTP/1.1" 200 {bytes} {ms}ms`,
		`served static asset /static/js/app.{hex}.js ({bytes} bytes)`,
		`session {hex} refreshed for user {uid}`,
		`upstream pool stats: active={n} idle={n} max=64`,
		`TLS handshake with {ip}:{port} completed (TLSv1.3, TLS_AES_128_GCM_SHA256)`,
		`rate limiter: client {ip} at {pct}% of quota`,
		`health check passed: 0 unhealthy upstreams, took {ms}ms`,
		`request {hex} completed in {ms}ms status=200`,
		`route table reloaded: {n} routes, {n} upstreams`,
	},
	kindApp: {
		`handled {op} in {ms}ms status=200`,
		`cache hit ratio over the last 60s: {pct}%`,
		`connection pool: open={n} in_use={n} idle={n}`,
		`processed request {hex} for user {uid}`,
		`loaded {n} items for user {uid} in {ms}ms`,
		`metrics flushed: {n} series, {bytes} bytes`,
		`background job refresh-{hex} finished in {ms}ms`,
		`feature flags synced: {n} flags, revision {id}`,
		`outbound request to {ip}:{port} reused keep-alive connection {n}`,
	},
	kindDB: {
		`LOG:  duration: {ms}.{n} ms  statement: SELECT * FROM {table} WHERE id = {pid}`,
		`LOG:  checkpoint starting: time`,
		`LOG:  checkpoint complete: wrote {n} buffers ({pct}.{n}%); 0 WAL file(s) added, 0 removed, {n} recycled`,
		`LOG:  connection received: host={ip} port={port}`,
		`LOG:  connection authorized: user=shop database=shop application_name={svc}`,
		`LOG:  disconnection: session time: 0:{n}:{n}.{ms} user=shop database=shop host={ip} port={port}`,
		`LOG:  automatic vacuum of table "shop.public.{table}": index scans: 1, pages: 0 removed, {n} remain`,
		`LOG:  automatic analyze of table "shop.public.{table}" system usage: CPU: user: 0.{n} s, system: 0.00 s`,
	},
	kindCache: {
		`{n} clients connected ({n} replicas), {bytes} bytes in use`,
		`DB0: {id} keys ({n} volatile) in {n} slots HT.`,
		`Background saving started by pid {n}`,
		`DB saved on disk`,
		`Background saving terminated with success`,
		`{n} changes in 60 seconds. Saving...`,
		`Accepted {ip}:{port}`,
		`Client closed connection id={id} addr={ip}:{port}`,
		`expired {n} keys in {ms}ms ({pct}% of sampled keys)`,
	},
	kindQueue: {
		`accepting AMQP connection <0.{id}.0> ({ip}:{port} -> 10.0.3.19:5672)`,
		`connection <0.{id}.0> ({ip}:{port}): user 'shop' authenticated and granted access to vhost '/'`,
		`queue 'orders' in vhost '/': {n} messages ready, {n} unacknowledged, {n} consumers`,
		`closing AMQP connection <0.{id}.0> ({ip}:{port}, vhost: '/', user: 'shop')`,
		`channel <0.{id}.0> opened for consumer ctag-{hex}`,
		`message store GC: {n} files compacted in {ms}ms`,
		`publisher confirms enabled on channel {n}`,
		`stats: published={n} delivered={n} acknowledged={n} in the last 60s`,
	},
}

// Lines a service writes only when a fault strikes it: the exception behind
// an errors fault, by service.
var faultErrorTemplates = [numServices]string{
	svcFrontend:     `internal server error in {op}: handler panicked: runtime error: index out of range [{n}] with length {n}`,
	svcGateway:      `internal server error in {op}: handler panicked: runtime error: index out of range [{n}] with length {n}`,
	svcCatalog:      `failed to render {op}: template product.html:{line}: executing "price" at <.Price.Amount>: nil pointer evaluating *Money.Amount`,
	svcCart:         `cart {id} corrupted: unexpected end of JSON input at offset {n}`,
	svcCheckout:     `order {oid} rejected: inventory reservation failed: version conflict on sku {pid}`,
	svcUser:         `session validation failed for user {uid}: token signature mismatch (kid {hex})`,
	svcPayment:      `payment provider error for charge {oid}: HTTP 502 Bad Gateway from api.payprovider.example`,
	svcDB:           `ERROR:  deadlock detected: process {n} waits for ShareLock on transaction {id}; blocked by process {n}`,
	svcCache:        `READONLY You can't write against a read only replica. (command from {ip}:{port})`,
	svcQueue:        `channel error on connection <0.{id}.0>: PRECONDITION_FAILED - unknown delivery tag {n}`,
	svcNotification: `failed to send confirmation for order {oid}: 451 4.3.0 temporary SMTP failure from {ip}`,
}

// Lines of the rare errors a healthy shop has too, by kind.
var baseErrorTemplates = [...]string{
	kindWeb:   `request {hex} failed: client closed connection (broken pipe) after {ms}ms`,
	kindApp:   `request {hex} failed: unexpected EOF reading request body ({bytes} bytes expected)`,
	kindDB:    `ERROR:  canceling statement due to conflict with recovery (pid {n})`,
	kindCache: `Error accepting a client connection: connection reset by peer (fd {n})`,
	kindQueue: `closing AMQP connection <0.{id}.0>: client unexpectedly closed TCP connection`,
}

// A crash: a Go panic and its stack, written as separate lines as a log
// shipper would split them.
var panicTemplates = []string{
	`panic: runtime error: invalid memory address or nil pointer dereference`,
	`[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x{hex}]`,
	`goroutine {id} [running]:`,
	`github.com/shop/{svc}/internal/handler.(*Server).handle(0xc000{hex}, 0xc000{hex})`,
	`	/src/{svc}/internal/handler/server.go:{line} +0x{n}`,
	`net/http.HandlerFunc.ServeHTTP(0xc000{hex}, 0xc000{hex})`,
}

// An OOM kill: the exception and its stack.
var oomTemplates = []string{
	`java.lang.OutOfMemoryError: Java heap space (heap {mb}MB of 1024MB)`,
	`	at com.shop.{svc}.cache.SessionStore.put(SessionStore.java:{line})`,
	`	at com.shop.{svc}.api.Handler.handle(Handler.java:{line})`,
	`	at java.base/java.lang.Thread.run(Thread.java:833)`,
}

// What a service writes when it comes back up.
var startupTemplates = []string{
	`starting {svc} version 2.4.1 (pid {n})`,
	`listening on 0.0.0.0:{port}`,
	`ready to serve requests, warm-up took {ms}ms`,
}

var tables = []string{"products", "users", "sessions", "payments", "orders", "inventory"}

// expand fills a template's placeholders for service s.
func (w *World) expand(s *service, tmpl string) string {
	b := w.buf[:0]
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '{' {
			b = append(b, c)
			continue
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b = append(b, tmpl[i:]...)
			break
		}
		b = w.fill(b, s, tmpl[i+1:i+j])
		i += j
	}
	w.buf = b
	return string(b)
}

func (w *World) fill(b []byte, s *service, name string) []byte {
	r := w.rng
	switch name {
	case "id":
		return strconv.AppendInt(b, 10000+r.Int64N(990000), 10)
	case "uid":
		return strconv.AppendInt(b, 1000+r.Int64N(90000), 10)
	case "oid":
		b = append(b, "ord-"...)
		return appendHex(b, r.Uint64(), 10)
	case "pid":
		return strconv.AppendInt(b, 1+r.Int64N(5000), 10)
	case "ms":
		return strconv.AppendInt(b, 1+r.Int64N(80), 10)
	case "n":
		return strconv.AppendInt(b, 1+r.Int64N(64), 10)
	case "pct":
		return strconv.AppendInt(b, r.Int64N(100), 10)
	case "bytes":
		return strconv.AppendInt(b, 200+r.Int64N(90000), 10)
	case "mb":
		return strconv.AppendInt(b, 990+r.Int64N(34), 10)
	case "ip":
		b = append(b, "10.0."...)
		b = strconv.AppendInt(b, 1+r.Int64N(4), 10)
		b = append(b, '.')
		return strconv.AppendInt(b, 2+r.Int64N(250), 10)
	case "port":
		return strconv.AppendInt(b, 30000+r.Int64N(30000), 10)
	case "hex":
		return appendHex(b, r.Uint64(), 8)
	case "table":
		return append(b, tables[r.IntN(len(tables))]...)
	case "op":
		if len(s.ops) == 0 {
			return append(b, "GET /"...)
		}
		return append(b, s.ops[r.IntN(len(s.ops))]...)
	case "svc":
		return append(b, s.name...)
	case "line":
		return strconv.AppendInt(b, 30+r.Int64N(400), 10)
	}
	b = append(b, '{')
	b = append(b, name...)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendHex appends the low n hex digits of u.
func appendHex(b []byte, u uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(u>>(4*uint(i)))&0xf])
	}
	return b
}

// log queues one line of service si at time t (unix ns).
func (w *World) log(si int, t int64, sev signal.Severity, body, traceID string) {
	w.pendLogs = append(w.pendLogs, signal.LogRecord{
		Time: ts(t), Entity: w.svcs[si].name, Severity: sev, Body: body, TraceID: traceID,
	})
}

// logT expands a template and queues it.
func (w *World) logT(si int, t int64, sev signal.Severity, tmpl, traceID string) {
	w.log(si, t, sev, w.expand(&w.svcs[si], tmpl), traceID)
}

// logLines queues a multi-line report (a stack trace) a microsecond apart,
// the first line at sev and the rest at error.
func (w *World) logLines(si int, t int64, sev signal.Severity, tmpls []string) {
	for i, tmpl := range tmpls {
		s := sev
		if i > 0 && sev != signal.SeverityInfo {
			s = signal.SeverityError
		}
		w.logT(si, t+int64(i)*1000, s, tmpl, "")
	}
}

// More routine lines by kind, written by worlds built from a topology (the
// demo's shop keeps its original mix).
var extraInfoTemplates = [...][]string{
	kindWeb: {
		`GET /healthz 200 {ms}ms`,
		`access: {ip} "{op}" 304 0 {ms}ms ua="Mozilla/5.0"`,
		`upstream {ip}:{port} marked healthy after {n} checks`,
		`gzip: compressed response {bytes} → {n}KB for {op}`,
		`websocket connection {hex} closed after {n}s`,
		`cookie consent recorded for session {hex}`,
	},
	kindApp: {
		`GET /healthz 200 {ms}ms`,
		`scheduled task cleanup-expired removed {n} rows in {ms}ms`,
		`gRPC call {op} from {ip}:{port} finished in {ms}ms code=OK`,
		`JVM heap after GC: {mb}MB used, {n} young collections in the last minute`,
		`config watcher: revision {id} unchanged`,
		`retry budget: {pct}% remaining`,
	},
	kindDB: {
		`LOG:  statement: BEGIN`,
		`LOG:  statement: COMMIT`,
		`LOG:  replication lag on standby {ip}: {n} bytes`,
		`LOG:  temporary file: path "base/pgsql_tmp/pgsql_tmp{n}.{n}", size {bytes}`,
		`LOG:  connection stats: {n} active, {n} idle, {n} idle in transaction`,
		`LOG:  index scan on {table}_pkey returned {n} rows in {ms}.{n} ms`,
	},
	kindCache: {
		`INFO keyspace_hits={id} keyspace_misses={n}`,
		`Replica {ip}:{port} asks for synchronization`,
		`Synchronization with replica {ip}:{port} succeeded`,
		`RDB: {n} MB of memory used by copy-on-write`,
		`evicted {n} keys (maxmemory-policy allkeys-lru) in {ms}ms`,
		`slowlog length {n}, last entry {ms}ms`,
	},
	kindQueue: {
		`queue '{svc}' in vhost '/': {n} messages ready, {n} unacknowledged`,
		`memory high watermark check passed: {pct}% of limit`,
		`node rabbit@{svc}-0 is up, {n} connections, {n} channels`,
		`mirror of queue '{svc}' on node rabbit@{svc}-1 synchronised`,
		`disk free limit check passed: {mb}MB free`,
		`consumer ctag-{hex} acknowledged {n} messages`,
	},
}

// The exception of an errors fault, by kind, for services of a topology.
var kindFaultTemplates = [...]string{
	kindWeb:      `internal server error in {op}: handler panicked: runtime error: index out of range [{n}] with length {n}`,
	kindApp:      `failed to handle {op}: java.lang.IllegalStateException: invariant violated for entity {id}`,
	kindDB:       `ERROR:  deadlock detected: process {n} waits for ShareLock on transaction {id}; blocked by process {n}`,
	kindCache:    `READONLY You can't write against a read only replica. (command from {ip}:{port})`,
	kindQueue:    `channel error on connection <0.{id}.0>: PRECONDITION_FAILED - unknown delivery tag {n}`,
	kindExternal: `upstream answered 500 Internal Server Error`,
}

// What a database writes when its queries wait on locks, and the stack of a
// lock timeout as its caller sees it.
var lockTemplates = [][]string{
	{`ERROR:  canceling statement due to lock timeout`, `STATEMENT:  UPDATE {table} SET updated_at = now() WHERE id = {pid}`},
	{`ERROR:  could not obtain lock on row in relation "{table}"`},
}

// The exceptions of a bad deploy: a new bug, with its stack.
var deployTemplates = [][]string{
	{
		`java.lang.NullPointerException: Cannot invoke "com.shop.{svc}.model.Price.amount()" because "item.price" is null`,
		`	at com.shop.{svc}.pricing.PriceCalculator.total(PriceCalculator.java:{line})`,
		`	at com.shop.{svc}.api.Handler.handle(Handler.java:{line})`,
		`	at java.base/java.lang.Thread.run(Thread.java:833)`,
	},
	{`unhandled exception in {op}: KeyError: 'discount_code' (release 2.5.0)`},
}

// The errors of a bad configuration change.
var configTemplates = [][]string{
	{`invalid configuration: upstream.timeout_ms=50 is below the minimum 100; request {hex} aborted`},
	{`feature new_pricing enabled but pricing.rules is empty: refusing request {hex}`},
}

// The errors of a full disk.
var diskTemplates = [][]string{
	{`write /var/lib/{svc}/data/segment-{id}.log: no space left on device`},
	{`ERROR:  could not extend file "base/16384/{id}": No space left on device`, `HINT:  Check free disk space.`},
	{`failed to flush write-ahead log: ENOSPC (errno 28)`},
}

// What an external dependency's failures look like (logged by its callers).
var externalTemplates = [][]string{
	{`upstream answered 503 Service Unavailable`},
}

// templatesOf lists every template a service of kind k can write, for the
// count the issue asks of (at least 20 per kind).
func templatesOf(k kind) []string {
	var out []string
	out = append(out, infoTemplates[k]...)
	out = append(out, extraInfoTemplates[k]...)
	out = append(out, baseErrorTemplates[k], kindFaultTemplates[k])
	out = append(out, panicTemplates...)
	out = append(out, oomTemplates...)
	out = append(out, startupTemplates...)
	for _, ts := range [][][]string{deployTemplates, configTemplates, diskTemplates} {
		for _, t := range ts {
			out = append(out, t...)
		}
	}
	if k == kindDB {
		for _, t := range lockTemplates {
			out = append(out, t...)
		}
	}
	return append(out,
		"timeout calling {svc} after {ms}ms",
		"connection refused: dial tcp {ip}:{port}",
		"context deadline exceeded while handling {op} after {ms}ms",
		"retrying call to {svc} after {err} (attempt {n} of {n})",
		"call to {svc} failed with status 503 while handling {op}",
		"timeout acquiring connection to {svc} from pool after {ms}ms (pool size {n}, all in use)",
		"slow request: {op} took {ms}ms (threshold 200ms)",
		"disk usage on /var/lib/{svc} at {pct}%, {mb}MB free",
		"worker pool saturated: 64/64 busy, {n} requests queued",
		"GC overhead high: heap {pct}% used after full GC, pause {ms}ms")
}
