package snapshot

import (
	"errors"
	"math"
	"testing"
	"time"
)

type sample struct {
	n     int
	f     float64
	on    bool
	at    time.Time
	name  string
	fs    []float64
	small []float32
}

func (s *sample) visit(c *Codec) {
	c.Int(&s.n)
	c.Finite(&s.f)
	c.Bool(&s.on)
	c.Time(&s.at)
	c.String(&s.name, 16)
	c.F64s(&s.fs)
	c.F32s(s.small)
}

func TestRoundTrip(t *testing.T) {
	in := sample{n: -7, f: 2.5, on: true, at: time.Unix(1_700_000_000, 5).UTC(), name: "cart", fs: []float64{1, math.Inf(1)}, small: []float32{1.5, 2}}
	w := NewWriter("TEST\x01", []byte("cfg"))
	in.visit(w)
	data, err := w.Result()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(data, "TEST\x01", []byte("cfg"))
	if err != nil {
		t.Fatal(err)
	}
	out := sample{small: make([]float32, 2)}
	out.visit(r)
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if out.n != in.n || out.f != in.f || !out.on || !out.at.Equal(in.at) || out.name != in.name ||
		len(out.fs) != 2 || !math.IsInf(out.fs[1], 1) || out.small[0] != 1.5 {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	// The zero time stays zero.
	var z sample
	z.small = []float32{}
	w = NewWriter("TEST\x01", nil)
	z.visit(w)
	data, _ = w.Result()
	r, _ = NewReader(data, "TEST\x01", nil)
	z.at = time.Now()
	z.visit(r)
	if !z.at.IsZero() || r.Finish() != nil {
		t.Fatalf("zero time read as %v (%v)", z.at, r.Err())
	}
}

func TestRefusals(t *testing.T) {
	w := NewWriter("TEST\x01", []byte("cfg"))
	n := 3
	w.Int(&n)
	data, _ := w.Result()
	if _, err := NewReader(data, "OTHR\x01", []byte("cfg")); !errors.Is(err, ErrMagic) {
		t.Errorf("another magic: %v", err)
	}
	if _, err := NewReader(data, "TEST\x01", []byte("other")); !errors.Is(err, ErrHeader) {
		t.Errorf("another header: %v", err)
	}
	// A count longer than what is left allocates nothing.
	r, _ := NewReader(data, "TEST\x01", []byte("cfg"))
	if got := r.Length(0, 8, 0, "items"); got != 0 || r.Err() == nil {
		t.Errorf("a count of 3 with 0 bytes left: %d, %v", got, r.Err())
	}
	// Over its limit.
	r, _ = NewReader(data, "TEST\x01", []byte("cfg"))
	if r.Length(0, 0, 2, "items"); r.Err() == nil {
		t.Error("a count of 3 over a limit of 2 was taken")
	}
	// Left over.
	r, _ = NewReader(data, "TEST\x01", []byte("cfg"))
	if err := r.Finish(); err == nil {
		t.Error("8 bytes left over were not an error")
	}
	// Not finite where only finite numbers are.
	inf := math.Inf(-1)
	w = NewWriter("TEST\x01", nil)
	w.F64(&inf)
	data, _ = w.Result()
	r, _ = NewReader(data, "TEST\x01", nil)
	var f float64
	if r.Finite(&f); r.Err() == nil {
		t.Error("an infinity read as finite")
	}
	// Truncated.
	r, _ = NewReader(data[:len(data)-1], "TEST\x01", nil)
	if r.F64(&f); r.Err() == nil {
		t.Error("a truncated number was read")
	}
}
