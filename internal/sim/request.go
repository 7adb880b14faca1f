package sim

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// failure is how a service's handling of a request ended.
type failure uint8

const (
	failNone     failure = iota
	failInternal         // a rare error of the healthy service
	failFault            // an error caused by an errors fault
	failTimeout          // a callee did not answer within the call's timeout
	failRefused          // a callee was down
	failDeadline         // the request's own deadline passed
	failUpstream         // a callee answered with an error
	failOther            // an error of a fault other than errors (deploy, disk)
	failPool             // no connection to a store could be had from the pool
)

// errorType is the span attribute error.type of a failure.
func (f failure) errorType() string {
	switch f {
	case failInternal, failFault, failOther:
		return "internal"
	case failTimeout:
		return "timeout"
	case failRefused:
		return "connection_refused"
	case failDeadline:
		return "deadline_exceeded"
	case failUpstream:
		return "upstream_error"
	case failPool:
		return "pool_exhausted"
	}
	return ""
}

// reqCtx is what a request carries along its path.
type reqCtx struct {
	sampled bool
	traceID string
}

// visit simulates service n.svc handling one request that arrives at start
// and must be answered by deadline: its own time, split around its calls,
// which are made one after the other. It returns when the service answered
// and how.
func (w *World) visit(rc *reqCtx, n *node, start, deadline int64, parent string, inst int) (int64, failure) {
	si := n.svc
	s, e := &w.svcs[si], &w.eff[si]
	selfMs := s.selfMs * math.Exp(s.sigma*w.rng.NormFloat64()) * e.mult
	if e.addMs > 0 {
		selfMs += e.addMs * math.Exp(0.1*w.rng.NormFloat64())
	}
	if e.lock > 0 && w.rng.Float64() < e.lock {
		wait := 50 + 600*w.rng.ExpFloat64()
		selfMs += wait
		w.acc[si].lockWaits++
		if w.rng.Float64() < 0.2 {
			w.logT(si, start, signal.SeverityInfo, "LOG:  process {n} still waiting for ShareLock on transaction {id} after "+strconv.Itoa(int(wait))+".{n} ms", rc.traceID)
		}
	}
	self := int64(selfMs * 1e6)
	before := self * 6 / 10
	spanIdx, spanID := -1, ""
	if rc.sampled {
		spanID = w.newID(16)
		spanIdx = len(w.spans)
		w.spans = append(w.spans, signal.Span{})
	}
	t := start + before
	var (
		fail      failure
		failAt    = -1  // the callee behind a failure of a call
		failAfter int64 // the timeout that expired
	)
	if u := w.rng.Float64(); u < baseErrorRate {
		fail = failInternal
	} else if u < baseErrorRate+e.errP {
		fail = failFault
	} else if u < baseErrorRate+e.errP+e.errQ {
		fail = failOther
	}
	if fail == failNone {
	calls:
		for _, c := range n.calls {
			if c.prob < 1 && w.rng.Float64() >= c.prob {
				continue
			}
			tries := 1 + c.retries
			for try := 1; ; try++ {
				if t >= deadline {
					fail = failDeadline
					break calls
				}
				cd := min(deadline, t+c.timeout)
				cf := failNone
				if e.poolBlock > 0 && w.isStore(c.svc) && w.rng.Float64() < e.poolBlock {
					t = min(deadline, t+poolTimeout)
					fail, failAt = failPool, c.svc
					break calls
				}
				ci := w.pick(c.svc)
				hang := false
				if w.netOn && !w.eff[c.svc].down {
					if loss := w.net[[2]int{si, c.svc}]; loss > 0 {
						if loss >= 1 || w.rng.Float64() < loss*loss*0.5 {
							hang = true
						} else if w.rng.Float64() < loss {
							t += int64(200e6) << w.rng.IntN(3)
						}
						w.acc[si].retrans++
						w.acc[c.svc].retrans++
					}
				}
				if hang {
					if rc.sampled {
						w.clientSpanErr(rc, spanID, si, c, t, cd-t, failTimeout)
					}
					t = cd
					if cd >= deadline {
						fail, failAt = failDeadline, c.svc
						break calls
					}
					cf = failTimeout
				} else if w.eff[c.svc].down || w.state[c.svc].instDown[ci] {
					d := 300_000 + w.rng.Int64N(700_000)
					if rc.sampled {
						w.clientSpan(rc, spanID, si, c, t, d)
					}
					t += d
					cf = failRefused
				} else {
					end, f := w.visit(rc, c, t, cd, spanID, ci)
					if !w.legacy && w.isStore(c.svc) {
						// Time in a store holds a connection of the caller's pool.
						w.acc[si].storeNs += end - t
					}
					t = end
					if f != failNone {
						cf = failUpstream
						if end >= cd {
							if cd >= deadline {
								fail, failAt = failDeadline, c.svc
								break calls
							}
							cf = failTimeout
						}
					}
				}
				if cf == failNone {
					break
				}
				if cf != failTimeout && try < tries {
					w.log(si, t, signal.SeverityWarn, "retrying call to "+w.svcs[c.svc].name+" after "+cf.errorType()+" (attempt "+strconv.Itoa(try+1)+" of "+strconv.Itoa(tries)+")", rc.traceID)
					t += 5_000_000 + w.rng.Int64N(10_000_000)
					continue
				}
				fail, failAt, failAfter = cf, c.svc, c.timeout
				break calls
			}
		}
	}
	after := self - before
	switch fail {
	case failNone:
		t += after
	case failDeadline:
	default:
		t += after / 4
	}
	if t > deadline {
		t = deadline
		if fail == failNone {
			fail = failDeadline
		}
	}
	if fail != failNone {
		w.logFailure(rc, si, n, fail, failAt, failAfter, start, t)
	} else if n.publish {
		w.enqueue(w.qOf[si], t)
	}
	if selfMs > slowMs && w.rng.Float64() < 0.2 {
		took := strconv.FormatInt(int64(selfMs), 10)
		if s.kind == kindDB {
			w.log(si, t, signal.SeverityWarn, "slow query took "+took+"ms: "+n.op+" FROM "+tables[w.rng.IntN(len(tables))], rc.traceID)
		} else {
			w.log(si, t, signal.SeverityWarn, "slow request: "+n.op+" took "+took+"ms (threshold 200ms)", rc.traceID)
		}
	}
	a := &w.acc[si]
	a.lat = append(a.lat, float64(t-start)/1e6)
	a.n++
	if fail != failNone {
		a.errs++
	}
	if !w.legacy {
		ia := &w.iacc[si][inst]
		ia.lat = append(ia.lat, float64(t-start)/1e6)
		ia.n++
		if fail != failNone {
			ia.errs++
		}
	}
	if spanIdx >= 0 {
		sp := signal.Span{
			TraceID: rc.traceID, SpanID: spanID, ParentID: parent, Service: s.name, Operation: n.op,
			Kind: signal.SpanServer, Start: ts(start), Duration: time.Duration(t - start), Status: signal.StatusOK,
		}
		if fail != failNone {
			sp.Status = signal.StatusError
			sp.Attrs = map[string]string{signal.AttrErrorType: fail.errorType()}
		}
		w.spans[spanIdx] = sp
	}
	return t, fail
}

// clientSpan records caller si's attempt to reach c.svc, which was down.
func (w *World) clientSpan(rc *reqCtx, parent string, si int, c *node, t, d int64) {
	w.clientSpanErr(rc, parent, si, c, t, d, failRefused)
}

// clientSpanErr records caller si's call to c.svc that never reached it.
func (w *World) clientSpanErr(rc *reqCtx, parent string, si int, c *node, t, d int64, f failure) {
	w.spans = append(w.spans, signal.Span{
		TraceID: rc.traceID, SpanID: w.newID(16), ParentID: parent, Service: w.svcs[si].name,
		Operation: c.op, Kind: signal.SpanClient, Start: ts(t), Duration: time.Duration(d), Status: signal.StatusError,
		Attrs: map[string]string{signal.AttrPeerService: w.svcs[c.svc].name, signal.AttrErrorType: f.errorType()},
	})
}

// poolTimeout is how long a request waits for a pooled connection.
const poolTimeout = int64(time.Second)

func (w *World) isStore(i int) bool {
	k := w.svcs[i].kind
	return k == kindDB || k == kindCache
}

// pick is the replica of service i the load balancer sends the next request
// to, round robin.
func (w *World) pick(i int) int {
	n := w.svcs[i].instances
	if n == 1 {
		return 0
	}
	w.rr[i]++
	return w.rr[i] % n
}

// logFailure writes the error line of service si for a request it failed.
func (w *World) logFailure(rc *reqCtx, si int, n *node, fail failure, callee int, timeout, start, t int64) {
	s := &w.svcs[si]
	if s.kind == kindExternal {
		return // outside the system: only its callers' logs are seen
	}
	tid := rc.traceID
	switch fail {
	case failInternal:
		tmpl := baseErrorTemplates[s.kind]
		if strings.HasPrefix(n.op, "CONSUME ") {
			tmpl = `message {id} rejected: malformed payload (unexpected EOF at byte {n})`
		}
		w.logT(si, t, signal.SeverityError, tmpl, tid)
	case failFault:
		w.logT(si, t, signal.SeverityError, s.faultTmpl, tid)
	case failOther:
		tm := w.eff[si].errTmpls
		w.logLines(si, t, signal.SeverityError, tm[w.rng.IntN(len(tm))])
	case failPool:
		w.log(si, t, signal.SeverityError, "timeout acquiring connection to "+w.svcs[callee].name+" from pool after "+ms(poolTimeout)+"ms (pool size "+strconv.Itoa(s.pool)+", all in use)", tid)
	case failDeadline:
		w.log(si, t, signal.SeverityError, "context deadline exceeded while handling "+n.op+" after "+ms(t-start)+"ms", tid)
	case failTimeout:
		w.log(si, t, signal.SeverityError, "timeout calling "+w.svcs[callee].name+" after "+ms(timeout)+"ms", tid)
	case failRefused:
		c := &w.svcs[callee]
		w.log(si, t, signal.SeverityError, "connection refused: dial tcp "+c.ip+":"+strconv.Itoa(c.port), tid)
	case failUpstream:
		if s.name == "checkout" && w.svcs[callee].name == "payment" {
			w.logT(si, t, signal.SeverityError, "payment declined: upstream error (order {oid})", tid)
		} else if c := &w.svcs[callee]; c.kind == kindExternal {
			w.logT(si, t, signal.SeverityError, "request to https://"+c.name+".example failed: 503 Service Unavailable (request id {hex})", tid)
		} else {
			w.log(si, t, signal.SeverityError, "call to "+w.svcs[callee].name+" failed with status 503 while handling "+n.op, tid)
		}
	}
}

func ms(ns int64) string { return strconv.FormatInt(ns/1e6, 10) }

// enqueue publishes a message to queue q at t. A full queue drops its
// oldest message, as a broker with a max-length policy does.
func (w *World) enqueue(q *queue, t int64) {
	if len(q.msgs)-q.head >= q.max {
		q.head++
		if w.rng.Float64() < 0.05 {
			w.log(q.svc, t, signal.SeverityWarn, "queue '"+q.name+"' in vhost '/' reached max-length "+strconv.Itoa(q.max)+", dropping messages from the head", "")
		}
	}
	w.msgID++
	q.msgs = append(q.msgs, msg{t: t, id: w.msgID})
	q.compact()
}

// compact moves the waiting messages to the front once the consumed ones
// are the larger part, so that the queue's memory follows its depth.
func (q *queue) compact() {
	if q.head > 256 && q.head*2 > len(q.msgs) {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs = q.msgs[:n]
		q.head = 0
	}
}

func (q *queue) depth() int { return len(q.msgs) - q.head }

// consume lets each queue's consumer work through it during [t0, t1).
func (w *World) consume(t0, t1 int64) {
	for _, q := range w.queues {
		w.consumeQ(q, t0, t1)
	}
}

// consumeQ lets q's consumers take the oldest message each once it is free.
func (w *World) consumeQ(q *queue, t0, t1 int64) {
	ns := q.consumer
	if w.eff[ns].down || w.eff[q.svc].down {
		for i := range q.workers {
			q.workers[i] = max(q.workers[i], t1)
		}
		if !w.eff[ns].down && (t0-w.start)%int64(5*time.Second) < w.step {
			qs := &w.svcs[q.svc]
			w.log(ns, t0, signal.SeverityError, "connection refused: dial tcp "+qs.ip+":"+strconv.Itoa(qs.port), "")
			w.log(ns, t0+1000, signal.SeverityWarn, "consumer for queue "+q.name+" lost its connection, reconnecting in 5s", "")
		}
		return
	}
	s, e := &w.svcs[ns], &w.eff[ns]
	for q.head < len(q.msgs) {
		m := q.msgs[q.head]
		wi := 0
		for i, free := range q.workers {
			if free < q.workers[wi] {
				wi = i
			}
		}
		start := max(q.workers[wi], m.t)
		if start >= t1 {
			break
		}
		q.head++
		var (
			end  int64
			fail failure
			rc   reqCtx
		)
		if len(q.node.calls) > 0 {
			// A consumer that calls others handles the message as a request.
			if w.rng.Float64() < w.cfg.TraceSampling {
				rc.sampled = true
				rc.traceID = w.newID(32)
			}
			end, fail = w.visit(&rc, q.node, start, start+clientTimeout, "", w.pick(ns))
			for i, sp := range w.spans {
				if i == 0 {
					sp.Kind = signal.SpanConsumer
					sp.Attrs = map[string]string{"messaging.system": "amqp", "messaging.destination": q.name}
					if fail != failNone {
						sp.Attrs[signal.AttrErrorType] = fail.errorType()
					}
				}
				w.pendSpans = append(w.pendSpans, pendingSpan{release: end, span: sp})
			}
			clear(w.spans)
			w.spans = w.spans[:0]
			q.workers[wi] = end
		} else {
			selfMs := s.selfMs * math.Exp(s.sigma*w.rng.NormFloat64()) * e.mult
			if e.addMs > 0 {
				selfMs += e.addMs * math.Exp(0.1*w.rng.NormFloat64())
			}
			end = start + int64(selfMs*1e6)
			q.workers[wi] = end
			if u := w.rng.Float64(); u < baseErrorRate {
				fail = failInternal
			} else if u < baseErrorRate+e.errP {
				fail = failFault
			} else if u < baseErrorRate+e.errP+e.errQ {
				fail = failOther
			}
			if w.rng.Float64() < w.cfg.TraceSampling {
				rc.sampled = true
				rc.traceID = w.newID(32)
				sp := signal.Span{
					TraceID: rc.traceID, SpanID: w.newID(16), Service: s.name, Operation: q.op,
					Kind: signal.SpanConsumer, Start: ts(start), Duration: time.Duration(end - start), Status: signal.StatusOK,
					Attrs: map[string]string{"messaging.system": "amqp", "messaging.destination": q.name},
				}
				if fail != failNone {
					sp.Status = signal.StatusError
					sp.Attrs[signal.AttrErrorType] = fail.errorType()
				}
				w.pendSpans = append(w.pendSpans, pendingSpan{release: end, span: sp})
			}
			a := &w.acc[ns]
			a.lat = append(a.lat, selfMs)
			a.n++
			if !w.legacy {
				ia := &w.iacc[ns][w.pick(ns)]
				ia.lat = append(ia.lat, selfMs)
				ia.n++
				if fail != failNone {
					ia.errs++
				}
			}
			if fail != failNone {
				a.errs++
				w.logFailure(&rc, ns, q.node, fail, -1, 0, start, end)
			}
		}
		if fail != failNone {
			if m.attempts+1 < maxDeliveries {
				m.attempts++
				m.t = end
				q.msgs = append(q.msgs, m)
			} else {
				w.log(ns, end, signal.SeverityWarn, "message "+strconv.FormatUint(m.id, 10)+" moved to dead-letter queue "+q.name+".dlq after 3 attempts", rc.traceID)
			}
		}
	}
	q.compact()
}
