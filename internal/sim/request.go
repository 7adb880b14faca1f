package sim

import (
	"math"
	"strconv"
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
)

// errorType is the span attribute error.type of a failure.
func (f failure) errorType() string {
	switch f {
	case failInternal, failFault:
		return "internal"
	case failTimeout:
		return "timeout"
	case failRefused:
		return "connection_refused"
	case failDeadline:
		return "deadline_exceeded"
	case failUpstream:
		return "upstream_error"
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
func (w *World) visit(rc *reqCtx, n *node, start, deadline int64, parent string) (int64, failure) {
	si := n.svc
	s, e := &w.svcs[si], &w.eff[si]
	selfMs := s.selfMs * math.Exp(s.sigma*w.rng.NormFloat64()) * e.mult
	if e.addMs > 0 {
		selfMs += e.addMs * math.Exp(0.1*w.rng.NormFloat64())
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
	}
	if fail == failNone {
	calls:
		for _, c := range n.calls {
			if c.prob < 1 && w.rng.Float64() >= c.prob {
				continue
			}
			tries := 1
			if c.retry {
				tries = 2
			}
			for try := 1; ; try++ {
				if t >= deadline {
					fail = failDeadline
					break calls
				}
				cd := min(deadline, t+c.timeout)
				cf := failNone
				if w.eff[c.svc].down {
					d := 300_000 + w.rng.Int64N(700_000)
					if rc.sampled {
						w.clientSpan(rc, spanID, si, c, t, d)
					}
					t += d
					cf = failRefused
				} else {
					end, f := w.visit(rc, c, t, cd, spanID)
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
					w.log(si, t, signal.SeverityWarn, "retrying call to "+w.svcs[c.svc].name+" after "+cf.errorType()+" (attempt 2 of 2)", rc.traceID)
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
		w.enqueue(t)
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
	w.spans = append(w.spans, signal.Span{
		TraceID: rc.traceID, SpanID: w.newID(16), ParentID: parent, Service: w.svcs[si].name,
		Operation: c.op, Kind: signal.SpanClient, Start: ts(t), Duration: time.Duration(d), Status: signal.StatusError,
		Attrs: map[string]string{signal.AttrPeerService: w.svcs[c.svc].name, signal.AttrErrorType: failRefused.errorType()},
	})
}

// logFailure writes the error line of service si for a request it failed.
func (w *World) logFailure(rc *reqCtx, si int, n *node, fail failure, callee int, timeout, start, t int64) {
	s := &w.svcs[si]
	tid := rc.traceID
	switch fail {
	case failInternal:
		tmpl := baseErrorTemplates[s.kind]
		if si == svcNotification {
			tmpl = `message {id} rejected: malformed payload (unexpected EOF at byte {n})`
		}
		w.logT(si, t, signal.SeverityError, tmpl, tid)
	case failFault:
		w.logT(si, t, signal.SeverityError, faultErrorTemplates[si], tid)
	case failDeadline:
		w.log(si, t, signal.SeverityError, "context deadline exceeded while handling "+n.op+" after "+ms(t-start)+"ms", tid)
	case failTimeout:
		w.log(si, t, signal.SeverityError, "timeout calling "+w.svcs[callee].name+" after "+ms(timeout)+"ms", tid)
	case failRefused:
		c := &w.svcs[callee]
		w.log(si, t, signal.SeverityError, "connection refused: dial tcp "+c.ip+":"+strconv.Itoa(c.port), tid)
	case failUpstream:
		if si == svcCheckout && callee == svcPayment {
			w.logT(si, t, signal.SeverityError, "payment declined: upstream error (order {oid})", tid)
		} else {
			w.log(si, t, signal.SeverityError, "call to "+w.svcs[callee].name+" failed with status 503 while handling "+n.op, tid)
		}
	}
}

func ms(ns int64) string { return strconv.FormatInt(ns/1e6, 10) }

// enqueue publishes an order notification at t. A full queue drops its
// oldest message, as a broker with a max-length policy does.
func (w *World) enqueue(t int64) {
	if len(w.queue)-w.qhead >= w.maxQueue {
		w.qhead++
		if w.rng.Float64() < 0.05 {
			w.log(svcQueue, t, signal.SeverityWarn, "queue 'orders' in vhost '/' reached max-length "+strconv.Itoa(w.maxQueue)+", dropping messages from the head", "")
		}
	}
	w.msgID++
	w.queue = append(w.queue, msg{t: t, id: w.msgID})
	w.compactQueue()
}

// compactQueue moves the waiting messages to the front once the consumed
// ones are the larger part, so that the queue's memory follows its depth.
func (w *World) compactQueue() {
	if w.qhead > 256 && w.qhead*2 > len(w.queue) {
		n := copy(w.queue, w.queue[w.qhead:])
		clear(w.queue[n:])
		w.queue = w.queue[:n]
		w.qhead = 0
	}
}

// consume lets the notification service work through the queue during
// [t0, t1): each of its consumers takes the oldest message once it is free.
func (w *World) consume(t0, t1 int64) {
	ns := svcNotification
	if w.eff[ns].down || w.eff[svcQueue].down {
		for i := range w.workers {
			w.workers[i] = max(w.workers[i], t1)
		}
		if !w.eff[ns].down && (t0-w.start)%int64(5*time.Second) < w.step {
			q := &w.svcs[svcQueue]
			w.log(ns, t0, signal.SeverityError, "connection refused: dial tcp "+q.ip+":"+strconv.Itoa(q.port), "")
			w.log(ns, t0+1000, signal.SeverityWarn, "consumer for queue orders lost its connection, reconnecting in 5s", "")
		}
		return
	}
	s, e := &w.svcs[ns], &w.eff[ns]
	for w.qhead < len(w.queue) {
		m := w.queue[w.qhead]
		wi := 0
		for i, free := range w.workers {
			if free < w.workers[wi] {
				wi = i
			}
		}
		start := max(w.workers[wi], m.t)
		if start >= t1 {
			break
		}
		w.qhead++
		selfMs := s.selfMs * math.Exp(s.sigma*w.rng.NormFloat64()) * e.mult
		if e.addMs > 0 {
			selfMs += e.addMs * math.Exp(0.1*w.rng.NormFloat64())
		}
		end := start + int64(selfMs*1e6)
		w.workers[wi] = end
		fail := failNone
		if u := w.rng.Float64(); u < baseErrorRate {
			fail = failInternal
		} else if u < baseErrorRate+e.errP {
			fail = failFault
		}
		var rc reqCtx
		if w.rng.Float64() < w.cfg.TraceSampling {
			rc.sampled = true
			rc.traceID = w.newID(32)
			sp := signal.Span{
				TraceID: rc.traceID, SpanID: w.newID(16), Service: s.name, Operation: consumeOp,
				Kind: signal.SpanConsumer, Start: ts(start), Duration: time.Duration(end - start), Status: signal.StatusOK,
				Attrs: map[string]string{"messaging.system": "amqp", "messaging.destination": "orders"},
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
		if fail != failNone {
			a.errs++
			w.logFailure(&rc, ns, &node{svc: ns, op: consumeOp}, fail, -1, 0, start, end)
			if m.attempts+1 < maxDeliveries {
				m.attempts++
				m.t = end
				w.queue = append(w.queue, m)
			} else {
				w.log(ns, end, signal.SeverityWarn, "message "+strconv.FormatUint(m.id, 10)+" moved to dead-letter queue orders.dlq after 3 attempts", rc.traceID)
			}
		}
	}
	w.compactQueue()
}
