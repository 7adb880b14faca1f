package promrw

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/snappy"
)

// FuzzWrite feeds arbitrary bodies to remote_write, as they come (a snappy
// stream or not) and snappy-compressed (arbitrary protobuf): a 2xx or a
// 4xx, never a 5xx or a panic.
func FuzzWrite(f *testing.F) {
	valid := Encode([]Series{{Labels: []string{"__name__", "up", "job", "cart"}, Samples: []Sample{{Value: 1, MS: 1740830400000}}}})
	for _, seed := range []struct {
		data     []byte
		compress bool
	}{{valid, true}, {snappy.Encode(nil, valid), false}, {nil, true}, {[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, false},
		{[]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x10}, true}, {[]byte("not snappy"), false}} {
		f.Add(seed.data, seed.compress)
	}
	cfg := DefaultConfig()
	cfg.Limits.MaxBodyBytes = 1 << 16
	cfg.Limits.RatePerSource = 0
	r, err := New(cfg, newRecorder(), quiet(), nil)
	if err != nil {
		f.Fatal(err)
	}
	h := r.Handler()
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		body := data
		if compress {
			body = snappy.Encode(nil, data)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for %x (compressed %v): %s", w.Code, data, compress, w.Body)
		}
	})
}
