package otlp

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seerops/seer/internal/ingest/delta"
	"github.com/seerops/seer/internal/signal"
)

// AttrInstance is the label or attribute that carries the instance of the
// entity a signal is about.
const AttrInstance = "instance"

// resource is what seer takes from an OTLP resource.
type origin struct {
	entity, instance string
	// labels is {"instance": instance} or nil, shared by the samples that
	// have no attributes of their own; nobody writes to it.
	labels map[string]string
}

func resourceOf(attrs pcommon.Map) origin {
	get := func(k string) string {
		if v, ok := attrs.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	var r origin
	svc := get("service.name")
	switch {
	case svc != "" && !strings.HasPrefix(svc, "unknown_service"):
		r.entity = svc
	default:
		for _, k := range []string{"k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.pod.name"} {
			if v := get(k); v != "" {
				r.entity = v
				break
			}
		}
		if r.entity == "" {
			if h := get("host.name"); h != "" {
				r.entity = "host:" + h
			} else if svc != "" {
				r.entity = svc
			} else {
				r.entity = "unknown"
			}
		}
	}
	for _, k := range []string{"service.instance.id", "k8s.pod.name", "host.name"} {
		if v := get(k); v != "" && v != r.entity {
			r.instance = v
			break
		}
	}
	if r.instance != "" {
		r.labels = map[string]string{AttrInstance: r.instance}
	}
	// Where the instance runs, when the resource says and it is not the
	// entity itself: the relation service → instance → host.
	if h := cmp.Or(get("host.name"), get("k8s.node.name")); h != "" && r.entity != signal.HostEntity(h) && r.entity != h {
		if r.labels == nil {
			r.labels = map[string]string{}
		}
		r.labels[signal.AttrHostName] = h
	}
	return r
}

// attrMap copies attrs as strings, with the resource's instance; it is the
// shared resource map when attrs is empty.
func (r *origin) attrMap(attrs pcommon.Map) map[string]string {
	if attrs.Len() == 0 {
		return r.labels
	}
	m := make(map[string]string, attrs.Len()+len(r.labels))
	attrs.Range(func(k string, v pcommon.Value) bool {
		m[k] = v.AsString()
		return true
	})
	maps.Copy(m, r.labels) // the instance and its host
	return m
}

// stamp is a point's time; a missing one is the time it was received.
func stamp(ts pcommon.Timestamp, now time.Time) time.Time {
	if ts == 0 {
		return now
	}
	return ts.AsTime()
}

// converter turns pdata into signals, remembering cumulative series.
type converter struct {
	series *delta.Tracker
}

// counts says what a conversion produced and skipped.
type counts struct {
	items   int
	dropped int
	reason  string
	// detail says what to fix about the first item dropped, when there is
	// more to say than its reason.
	detail string
}

func (c *counts) drop(reason string) { c.dropN(reason, 1, "") }

func (c *counts) dropN(reason string, n int, detail string) {
	if n <= 0 {
		return
	}
	c.dropped += n
	if c.reason == "" {
		c.reason, c.detail = reason, detail
	}
}

// badEntity drops the n items of a resource whose entity is not a valid
// name, and says whether it did.
func (c *counts) badEntity(res *origin, n int) bool {
	err := signal.CheckEntity(res.entity)
	if err != nil {
		c.dropN("bad_entity", n, err.Error()+" (from the resource's service.name, k8s.*.name or host.name)")
	}
	return err != nil
}

// refused counts a point the series tracker declined for want of room, so
// that the client hears of it as rejected (a first point of a series is
// declined too, but is no loss).
func (c *converter) refused(n *counts, key []byte) {
	if c.series.Refused(key) {
		n.dropN("too_many_series", 1, fmt.Sprintf("seer tracks at most %d cumulative series (otlp.series.max_series)", c.series.MaxSeries()))
	}
}

// records counts the log records of a resource.
func records(rl plog.ResourceLogs) int {
	n := 0
	for j := 0; j < rl.ScopeLogs().Len(); j++ {
		n += rl.ScopeLogs().At(j).LogRecords().Len()
	}
	return n
}

// spanCount counts the spans of a resource.
func spanCount(rs ptrace.ResourceSpans) int {
	n := 0
	for j := 0; j < rs.ScopeSpans().Len(); j++ {
		n += rs.ScopeSpans().At(j).Spans().Len()
	}
	return n
}

// points counts the data points of a resource's metrics.
func points(rm pmetric.ResourceMetrics) int {
	n := 0
	sms := rm.ScopeMetrics()
	for j := 0; j < sms.Len(); j++ {
		ms := sms.At(j).Metrics()
		for k := 0; k < ms.Len(); k++ {
			switch m := ms.At(k); m.Type() {
			case pmetric.MetricTypeGauge:
				n += m.Gauge().DataPoints().Len()
			case pmetric.MetricTypeSum:
				n += m.Sum().DataPoints().Len()
			case pmetric.MetricTypeHistogram:
				n += m.Histogram().DataPoints().Len()
			case pmetric.MetricTypeExponentialHistogram:
				n += m.ExponentialHistogram().DataPoints().Len()
			case pmetric.MetricTypeSummary:
				n += m.Summary().DataPoints().Len()
			}
		}
	}
	return n
}

// seriesKey identifies a cumulative series across requests.
func appendKey(buf []byte, entity, name string, labels map[string]string) []byte {
	buf = append(buf[:0], entity...)
	buf = append(buf, 0)
	buf = append(buf, name...)
	if len(labels) > 0 {
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			buf = append(buf, 0)
			buf = append(buf, k...)
			buf = append(buf, '=')
			buf = append(buf, labels[k]...)
		}
	}
	return buf
}

func (c *converter) metrics(md pmetric.Metrics, now time.Time, out []signal.Sample) ([]signal.Sample, counts) {
	var n counts
	var kb []byte
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := resourceOf(rm.Resource().Attributes())
		if n.badEntity(&res, points(rm)) {
			continue
		}
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				name := m.Name()
				if name == "" {
					n.drop("no_name")
					continue
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					out = c.numbers(out, &n, &res, name, m.Gauge().DataPoints(), now)
				case pmetric.MetricTypeSum:
					s := m.Sum()
					if !s.IsMonotonic() {
						out = c.numbers(out, &n, &res, name, s.DataPoints(), now)
						continue
					}
					dps := s.DataPoints()
					rname := delta.RateName(name)
					for p := 0; p < dps.Len(); p++ {
						dp := dps.At(p)
						tmpl := signal.Sample{Time: stamp(dp.Timestamp(), now), Entity: res.entity, Name: rname,
							Labels: res.attrMap(dp.Attributes())}
						v := number(dp)
						var ok bool
						if s.AggregationTemporality() == pmetric.AggregationTemporalityDelta {
							if w := dp.Timestamp().AsTime().Sub(dp.StartTimestamp().AsTime()).Seconds(); dp.StartTimestamp() != 0 && w > 0 && !math.IsNaN(v) {
								tmpl.Value, ok = v/w, true
							}
						} else {
							kb = appendKey(kb, res.entity, name, tmpl.Labels)
							tmpl.Value, ok = c.series.Rate(string(kb), tmpl.Time, v, startOf(dp.StartTimestamp()))
						}
						if ok {
							out = append(out, tmpl)
							n.items++
						} else {
							c.refused(&n, kb)
						}
					}
				case pmetric.MetricTypeHistogram:
					h := m.Histogram()
					dps := h.DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := dps.At(p)
						bounds := dp.ExplicitBounds().AsRaw()
						raw := dp.BucketCounts().AsRaw()
						if len(raw) == 0 {
							// Only a count: its rate is all there is.
							raw = []uint64{dp.Count()}
							bounds = nil
						}
						if len(raw) != len(bounds)+1 {
							n.drop("bad_histogram")
							continue
						}
						cnt := make([]float64, len(raw))
						for b, x := range raw {
							cnt[b] = float64(x)
						}
						out = c.window(out, &n, &res, name, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(),
							h.AggregationTemporality(), bounds, cnt, dp.Sum(), now, &kb)
					}
				case pmetric.MetricTypeExponentialHistogram:
					h := m.ExponentialHistogram()
					dps := h.DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := dps.At(p)
						bounds, cnt, ok := explicit(dp)
						if !ok {
							n.drop("bad_histogram")
							continue
						}
						out = c.window(out, &n, &res, name, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(),
							h.AggregationTemporality(), bounds, cnt, dp.Sum(), now, &kb)
					}
				case pmetric.MetricTypeSummary:
					dps := m.Summary().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := dps.At(p)
						tmpl := signal.Sample{Time: stamp(dp.Timestamp(), now), Entity: res.entity,
							Labels: res.attrMap(dp.Attributes())}
						qs := dp.QuantileValues()
						for q := 0; q < qs.Len(); q++ {
							for _, want := range delta.Quantiles {
								if qs.At(q).Quantile() == want.Q && !math.IsNaN(qs.At(q).Value()) {
									tmpl.Name, tmpl.Value = name+want.Suffix, qs.At(q).Value()
									out = append(out, tmpl)
									n.items++
								}
							}
						}
						kb = appendKey(kb, res.entity, name+"_count", tmpl.Labels)
						if r, ok := c.series.Rate(string(kb), tmpl.Time, float64(dp.Count()), startOf(dp.StartTimestamp())); ok {
							tmpl.Name, tmpl.Value = name+"_rate", r
							out = append(out, tmpl)
							n.items++
						} else {
							c.refused(&n, kb)
						}
					}
				default:
					n.drop("unsupported_type")
				}
			}
		}
	}
	return out, n
}

func startOf(ts pcommon.Timestamp) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return ts.AsTime()
}

func number(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

func (c *converter) numbers(out []signal.Sample, n *counts, res *origin, name string, dps pmetric.NumberDataPointSlice, now time.Time) []signal.Sample {
	for p := 0; p < dps.Len(); p++ {
		dp := dps.At(p)
		if dp.ValueType() == pmetric.NumberDataPointValueTypeEmpty || dp.Flags().NoRecordedValue() {
			n.drop("no_value")
			continue
		}
		v := number(dp)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			n.drop("bad_value")
			continue
		}
		out = append(out, signal.Sample{Time: stamp(dp.Timestamp(), now), Entity: res.entity, Name: name,
			Labels: res.attrMap(dp.Attributes()), Value: v})
		n.items++
	}
	return out
}

// window summarises one histogram point, cumulative or delta.
func (c *converter) window(out []signal.Sample, n *counts, res *origin, name string, attrs pcommon.Map,
	start, ts pcommon.Timestamp, temp pmetric.AggregationTemporality, bounds, cnt []float64, sum float64,
	now time.Time, kb *[]byte) []signal.Sample {
	tmpl := signal.Sample{Time: stamp(ts, now), Entity: res.entity, Labels: res.attrMap(attrs)}
	var w delta.Window
	if temp == pmetric.AggregationTemporalityDelta {
		secs := ts.AsTime().Sub(start.AsTime()).Seconds()
		if start == 0 || secs <= 0 {
			n.drop("no_window")
			return out
		}
		w = delta.Window{Seconds: secs, Bounds: bounds, Counts: cnt, Sum: sum}
		for _, x := range cnt {
			w.Count += x
		}
	} else {
		*kb = appendKey(*kb, res.entity, name, tmpl.Labels)
		var ok bool
		if w, ok = c.series.Histogram(string(*kb), tmpl.Time, startOf(start), bounds, cnt, sum); !ok {
			c.refused(n, *kb)
			return out
		}
	}
	before := len(out)
	out = delta.AppendWindow(out, tmpl, name, w)
	n.items += len(out) - before
	return out
}

// explicit turns an exponential histogram's positive buckets into explicit
// upper bounds: bucket index i covers (base^i, base^(i+1)] with base =
// 2^(2^-scale). Observations at or below zero share the first bucket.
func explicit(dp pmetric.ExponentialHistogramDataPoint) (bounds, cnt []float64, ok bool) {
	pos := dp.Positive()
	raw := pos.BucketCounts()
	if raw.Len() > 4096 || dp.Scale() < -10 || dp.Scale() > 20 {
		return nil, nil, false
	}
	base := math.Exp2(math.Exp2(-float64(dp.Scale())))
	zero := float64(dp.ZeroCount())
	neg := dp.Negative().BucketCounts()
	for i := 0; i < neg.Len(); i++ {
		zero += float64(neg.At(i))
	}
	bounds = make([]float64, 0, raw.Len()+2)
	cnt = make([]float64, 0, raw.Len()+3)
	// Zero (and below) first, then an empty bucket up to where the first
	// positive bucket starts, so that interpolation starts there.
	off := float64(pos.Offset())
	bounds = append(bounds, 0, math.Pow(base, off))
	cnt = append(cnt, zero, 0)
	if math.IsInf(bounds[1], 0) || bounds[1] <= 0 {
		return nil, nil, false
	}
	for i := 0; i < raw.Len(); i++ {
		b := math.Pow(base, off+float64(i)+1)
		if math.IsInf(b, 0) || math.IsNaN(b) || b <= bounds[len(bounds)-1] {
			return nil, nil, false
		}
		bounds = append(bounds, b)
		cnt = append(cnt, float64(raw.At(i)))
	}
	cnt = append(cnt, 0)
	return bounds, cnt, true
}

// severity maps an OTLP severity number, else its text, else a level word
// at the start of the body (a log line shipped as it was written).
func severity(num plog.SeverityNumber, text, body string) signal.Severity {
	switch {
	case num <= 0 && text == "":
		return signal.GuessSeverity(body)
	case num <= 0:
		return signal.ParseSeverity(text)
	case num <= plog.SeverityNumberDebug4:
		return signal.SeverityDebug
	case num <= plog.SeverityNumberInfo4:
		return signal.SeverityInfo
	case num <= plog.SeverityNumberWarn4:
		return signal.SeverityWarn
	case num <= plog.SeverityNumberError4:
		return signal.SeverityError
	default:
		return signal.SeverityFatal
	}
}

func (c *converter) logs(ld plog.Logs, now time.Time, out []signal.LogRecord) ([]signal.LogRecord, counts) {
	var n counts
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := resourceOf(rl.Resource().Attributes())
		if n.badEntity(&res, records(rl)) {
			continue
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				body := lr.Body().AsString()
				rec := signal.LogRecord{
					Time:     stamp(ts, now),
					Entity:   res.entity,
					Severity: severity(lr.SeverityNumber(), lr.SeverityText(), body),
					Body:     body,
					Attrs:    res.attrMap(lr.Attributes()),
				}
				if tid := lr.TraceID(); !tid.IsEmpty() {
					rec.TraceID = tid.String()
				}
				out = append(out, rec)
				n.items++
			}
		}
	}
	return out, n
}

var spanKinds = map[ptrace.SpanKind]signal.SpanKind{
	ptrace.SpanKindServer:   signal.SpanServer,
	ptrace.SpanKindClient:   signal.SpanClient,
	ptrace.SpanKindInternal: signal.SpanInternal,
	ptrace.SpanKindProducer: signal.SpanProducer,
	ptrace.SpanKindConsumer: signal.SpanConsumer,
}

func (c *converter) traces(td ptrace.Traces, out []signal.Span) ([]signal.Span, counts) {
	var n counts
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := resourceOf(rs.Resource().Attributes())
		if n.badEntity(&res, spanCount(rs)) {
			continue
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					n.drop("no_id")
					continue
				}
				sp := signal.Span{
					TraceID:   s.TraceID().String(),
					SpanID:    s.SpanID().String(),
					Service:   res.entity,
					Operation: s.Name(),
					Kind:      spanKinds[s.Kind()],
					Start:     s.StartTimestamp().AsTime(),
					Status:    signal.StatusOK,
					Attrs:     res.attrMap(s.Attributes()),
				}
				if peer, ok := sp.Attrs[signal.AttrPeerService]; ok {
					if err := signal.CheckEntity(peer); err != nil {
						n.dropN("bad_entity", 1, "peer.service: "+err.Error())
						continue
					}
				}
				if p := s.ParentSpanID(); !p.IsEmpty() {
					sp.ParentID = p.String()
				}
				if end := s.EndTimestamp(); end > s.StartTimestamp() {
					sp.Duration = time.Duration(end - s.StartTimestamp())
				}
				if s.Status().Code() == ptrace.StatusCodeError {
					sp.Status = signal.StatusError
				}
				out = append(out, sp)
				n.items++
			}
		}
	}
	return out, n
}
