package overload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/snappy"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/seerops/seer/internal/ingest/promrw"
)

// protocol is how a class of requests reaches seer.
type protocol int

const (
	otlpHTTP protocol = iota
	otlpGRPC
	remoteWrite
)

// class is one kind of request the generator sends: a protocol, a signal
// and a batch size, with its bodies encoded once, before the load starts.
type class struct {
	name   string
	proto  protocol
	path   string // HTTP path, or the gRPC method
	items  int    // points, samples or log records per request
	bodies [][]byte
	big    bool
}

// bytes is the size of one body on the wire.
func (c *class) bytes() int { return len(c.bodies[0]) }

// variants is how many bodies of each class are encoded, each over its own
// timestamps; the generator cycles through them.
const variants = 4

// classes encodes the bodies of the mix: OTLP/HTTP metrics and logs,
// OTLP/gRPC metrics and remote_write, each in small and big batches.
func classes(small, big int, now time.Time) []*class {
	mk := func(name string, p protocol, path string, items int, enc func(int, int, time.Time) []byte) *class {
		c := &class{name: name, proto: p, path: path, items: items, big: items == big}
		for v := range variants {
			c.bodies = append(c.bodies, enc(items, v, now))
		}
		return c
	}
	return []*class{
		mk("otlp-http metrics small", otlpHTTP, "/v1/metrics", small, metricsBody),
		mk("otlp-http metrics big", otlpHTTP, "/v1/metrics", big, metricsBody),
		mk("otlp-http logs small", otlpHTTP, "/v1/logs", small, logsBody),
		mk("otlp-http logs big", otlpHTTP, "/v1/logs", big, logsBody),
		mk("otlp-grpc metrics small", otlpGRPC, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", small, metricsBody),
		mk("otlp-grpc metrics big", otlpGRPC, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", big, metricsBody),
		mk("remote_write small", remoteWrite, "/api/v1/write", small, writeBody),
		mk("remote_write big", remoteWrite, "/api/v1/write", big, writeBody),
	}
}

// shape splits n points into 10 services × 2 metrics × series × times:
// at most 250 series of each metric and service, as many timestamps (10 s
// apart) as it takes.
func shape(n int) (series, times int) {
	series = max(1, min(n/20, 250))
	times = max(1, n/(20*series))
	return series, times
}

// metricsBody is an OTLP metrics export request of about n points: half
// gauges, half cumulative counters. Variant v covers its own stretch of
// time before now.
func metricsBody(n, v int, now time.Time) []byte {
	series, times := shape(n)
	md := pmetric.NewMetrics()
	for s := range 10 {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", fmt.Sprintf("load-%d", s))
		rm.Resource().Attributes().PutStr("service.instance.id", fmt.Sprintf("load-%d-1", s))
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		g := ms.AppendEmpty()
		g.SetName("queue_depth")
		gd := g.SetEmptyGauge().DataPoints()
		sum := ms.AppendEmpty()
		sum.SetName("requests_total")
		sum.SetEmptySum().SetIsMonotonic(true)
		sum.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		sd := sum.Sum().DataPoints()
		for k := range times {
			at := pcommon.NewTimestampFromTime(now.Add(-time.Duration((variants-v)*times-k) * 10 * time.Second))
			for i := range series {
				dp := gd.AppendEmpty()
				dp.SetTimestamp(at)
				dp.SetDoubleValue(float64((i*7 + k) % 100))
				dp.Attributes().PutStr("queue", fmt.Sprint(i))
				dp = sd.AppendEmpty()
				dp.SetTimestamp(at)
				dp.SetIntValue(int64(v*times+k) * 10 * int64(i+1))
				dp.Attributes().PutStr("code", fmt.Sprint(i))
			}
		}
	}
	b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		panic(err) // pdata encodes what it built
	}
	return b
}

// logsBody is an OTLP logs export request of n records over 10 services.
func logsBody(n, v int, now time.Time) []byte {
	ld := plog.NewLogs()
	per := max(1, n/10)
	for s := range 10 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("load-%d", s))
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range per {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Duration((variants-v)*per-i) * time.Millisecond)))
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
			lr.Body().SetStr(fmt.Sprintf("request %d served in %d ms by worker %d for user u%d", i, i%300, i%8, (i*31+v)%5000))
		}
	}
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		panic(err)
	}
	return b
}

// writeBody is a snappy-compressed remote_write request of about n samples,
// as Prometheus sends them: gauges, counters and histogram buckets.
func writeBody(n, v int, now time.Time) []byte {
	series, times := shape(n)
	les := []string{"0.05", "0.1", "0.5", "1", "+Inf"}
	ss := make([]promrw.Series, 0, 20*series)
	for s := range 10 {
		job := fmt.Sprintf("load-%d", s)
		for m := range 2 {
			for i := range series {
				lbl := []string{"__name__", "", "instance", job + ":9100", "job", job, "pod", fmt.Sprintf("%s-%d", job, i%3), "code", fmt.Sprint(200 + i%5)}
				switch {
				case m == 0:
					lbl[1] = fmt.Sprintf("memory_bytes_%d", i%7)
				case i%5 == 4:
					lbl[1] = "latency_seconds_bucket"
					lbl = append(lbl, "le", les[(i/5)%len(les)])
				default:
					lbl[1] = fmt.Sprintf("requests_%d_total", i%7)
				}
				lbl = append(lbl, "series", fmt.Sprint(i))
				samples := make([]promrw.Sample, times)
				for k := range samples {
					ms := now.Add(-time.Duration((variants-v)*times-k) * 15 * time.Second).UnixMilli()
					samples[k] = promrw.Sample{Value: float64((v*times + k) * (i + 1)), MS: ms}
				}
				ss = append(ss, promrw.Series{Labels: lbl, Samples: samples})
			}
		}
	}
	return snappy.Encode(nil, promrw.Encode(ss))
}

// outcome is how seer answered one request.
type outcome int

const (
	accepted  outcome = iota
	refused           // 429, RESOURCE_EXHAUSTED
	shed              // 503, UNAVAILABLE
	otherCode         // any other answer
	failed            // no answer: the connection broke
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"accepted", "refused", "shed", "other", "failed"}

// tally counts one class's requests by outcome, and their items.
type tally struct {
	reqs  [numOutcomes]atomic.Int64
	items [numOutcomes]atomic.Int64
}

func (t *tally) add(o outcome, items int) {
	t.reqs[o].Add(1)
	t.items[o].Add(int64(items))
}

// snapshot copies the counts.
func (t *tally) snapshot() (reqs, items [numOutcomes]int64) {
	for i := range reqs {
		reqs[i], items[i] = t.reqs[i].Load(), t.items[i].Load()
	}
	return reqs, items
}

// sender sends one class's bodies over its own connections, from its own
// loopback source address so that seer's per-source rate limit sees many
// clients, as it would in production.
type sender struct {
	c      *class
	http   *http.Client
	grpc   *grpc.ClientConn
	target string // the base URL, or the gRPC address
	seq    atomic.Int64
}

// rawCodec sends pre-encoded OTLP protobuf bytes over gRPC as they are.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = data.Materialize()
	return nil
}

// newSender connects one worker of class c from source (an IP of
// 127.0.0.0/8) to seer: httpBase for OTLP/HTTP, apiBase for remote_write,
// grpcAddr for OTLP/gRPC.
func newSender(c *class, source net.IP, httpBase, apiBase, grpcAddr string) (*sender, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 5 * time.Second}
	s := &sender{c: c}
	switch c.proto {
	case otlpGRPC:
		conn, err := grpc.NewClient(grpcAddr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp", addr)
			}),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
		if err != nil {
			return nil, err
		}
		s.grpc, s.target = conn, grpcAddr
	default:
		s.target = httpBase
		if c.proto == remoteWrite {
			s.target = apiBase
		}
		s.http = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1, DisableCompression: true}}
	}
	return s, nil
}

func (s *sender) close() {
	if s.grpc != nil {
		_ = s.grpc.Close()
	}
	if s.http != nil {
		s.http.CloseIdleConnections()
	}
}

// send sends the next body and classifies seer's answer; ctx ending is
// reported as an error, not an outcome.
func (s *sender) send(ctx context.Context) (outcome, error) {
	body := s.c.bodies[int(s.seq.Add(1))%len(s.c.bodies)]
	if s.grpc != nil {
		var resp []byte
		err := s.grpc.Invoke(ctx, s.c.path, &body, &resp)
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		switch status.Code(err) {
		case codes.OK:
			return accepted, nil
		case codes.ResourceExhausted:
			return refused, nil
		case codes.Unavailable:
			// A connection that broke is Unavailable too; seer's own
			// refusal says so in its message.
			if st, _ := status.FromError(err); st != nil && bytes.Contains([]byte(st.Message()), []byte("in flight")) {
				return shed, nil
			}
			return failed, nil
		default:
			return otherCode, nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target+s.c.path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if s.c.proto == remoteWrite {
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	resp, err := s.http.Do(req)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if err != nil {
		return failed, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return accepted, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return refused, nil
	case resp.StatusCode == http.StatusServiceUnavailable:
		return shed, nil
	default:
		return otherCode, nil
	}
}

// pacer spaces the requests of one class to a rate shared by its workers.
// Slots that no worker was free to take are not made up later: what the
// generator offers is what it sent.
type pacer struct {
	items int // per request
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(itemsPerSec float64, items int) *pacer {
	p := &pacer{items: items}
	p.set(itemsPerSec)
	return p
}

// set changes the rate to itemsPerSec.
func (p *pacer) set(itemsPerSec float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.every = time.Duration(float64(p.items) / itemsPerSec * float64(time.Second))
}

// wait blocks until the next slot, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now.Add(-50 * time.Millisecond)) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// drive runs workers senders of each class until ctx ends: paced by the
// class's pacer when pacers is not nil, else back to back (closed loop).
// It counts every answer in tallies (one per class).
func drive(ctx context.Context, cs []*class, workers int, pacers []*pacer, sources *sourcePool,
	httpBase, apiBase, grpcAddr string, tallies []*tally) error {
	var senders []*sender
	defer func() {
		for _, s := range senders {
			s.close()
		}
	}()
	var wg sync.WaitGroup
	for i, c := range cs {
		var p *pacer
		if pacers != nil {
			p = pacers[i]
		}
		for range workers {
			s, err := newSender(c, sources.next(), httpBase, apiBase, grpcAddr)
			if err != nil {
				return err
			}
			senders = append(senders, s)
			wg.Go(func() {
				for {
					if p != nil && p.wait(ctx) != nil {
						return
					}
					o, err := s.send(ctx)
					if err != nil {
						if ctx.Err() != nil {
							return
						}
						o = failed
					}
					tallies[i].add(o, c.items)
				}
			})
		}
	}
	wg.Wait()
	return nil
}

// sourcePool hands out loopback source addresses 127.0.0.2 and on.
type sourcePool struct {
	mu sync.Mutex
	n  int
}

func (p *sourcePool) next() net.IP {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.n
	p.n++
	return net.IPv4(127, 0, byte(n/250), byte(2+n%250))
}
