package otlp

import (
	"context"
	"testing"
	"time"
)

func fuzzReceiver(f *testing.F) *Receiver {
	cfg := DefaultConfig()
	cfg.Series.MaxSeries = 1000
	r, err := New(cfg, &counter{}, quiet(), nil)
	if err != nil {
		f.Fatal(err)
	}
	return r
}

// FuzzExport feeds arbitrary bytes to the three decoders, as protobuf and
// as JSON: they must fail cleanly, never panic.
func FuzzExport(f *testing.F) {
	f.Add([]byte(gaugeJSON), uint8(1))
	f.Add(metricsBody(20, time.Unix(1_700_000_000, 0)), uint8(0))
	f.Add(logsBody(3), uint8(2))
	f.Add(nestedRequest(100), uint8(1))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x","kind":2,"status":{"code":2}}]}]}]}`), uint8(5))
	r := fuzzReceiver(f)
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		kind := signalKind(sel % 3)
		json := sel/3%2 == 1
		_, _ = r.export(context.Background(), kind, data, json, 0)
	})
}
