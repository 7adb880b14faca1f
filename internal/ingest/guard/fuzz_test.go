package guard

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/seerops/seer/internal/memlimit"
)

// FuzzRead feeds arbitrary bodies, plain and as gzip (valid or not), to the
// body reader: the body within the cap, or a 4xx Problem, never a panic; and
// the memory counted for a body is given back when it is released.
func FuzzRead(f *testing.F) {
	for _, seed := range []struct {
		body []byte
		gz   bool
	}{{nil, false}, {[]byte("hello"), false}, {[]byte("hello"), true}, {bytes.Repeat([]byte("a"), 5000), true},
		{[]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, true}, {[]byte{0x1f, 0x8b}, true}} {
		f.Add(seed.body, seed.gz)
	}
	mem, err := memlimit.New(memlimit.Config{LimitBytes: 1 << 30, SpikeBytes: 1, CheckInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxBodyBytes, cfg.Memory = 4096, mem
	g, err := New("fuzz", cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		sent := body
		if gz && len(body) > 0 && body[0] != 0x1f { // compress what is not already (meant to look) gzip
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(body)
			w.Close()
			sent = b.Bytes()
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(sent))
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		b, err := g.Read(req, false)
		if err != nil {
			if p := AsProblem(err); p.Status < 400 || p.Status >= 500 {
				t.Fatalf("status %d for %q (gzip %v): %v", p.Status, body, gz, err)
			}
			if mem.Queued() != 0 {
				t.Fatalf("%d bytes counted after a refused body", mem.Queued())
			}
			return
		}
		if int64(len(b.Bytes)) > cfg.MaxBodyBytes {
			t.Fatalf("a body of %d bytes passed the cap of %d", len(b.Bytes), cfg.MaxBodyBytes)
		}
		compressed := gz && len(body) > 0 && body[0] != 0x1f
		if (!gz || compressed) && !bytes.Equal(b.Bytes, body) {
			t.Fatalf("read %q, sent %q (gzip %v)", b.Bytes, body, gz)
		}
		b.Release()
		if mem.Queued() != 0 {
			t.Fatalf("%d bytes still counted after the body was released", mem.Queued())
		}
	})
}
