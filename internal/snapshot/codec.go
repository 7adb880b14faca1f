// Package snapshot is the binary codec of the detectors' saved state: a
// Codec reads or writes a snapshot field by field, and each type lists its
// fields once (a visit method taking a *Codec) for both directions, so that
// saving and restoring cannot drift apart.
//
// A snapshot is a magic string (whose last byte is the format version), a
// header that must match the restoring side's exactly (the encoded
// configuration: a snapshot restores only into a stage configured the
// same), then the fields. Reading is bounded by what is there: errors are
// sticky, and a read past the end, a length longer than what is left (or
// than its limit) or an out-of-range value is one, so a hostile or corrupt
// file allocates nothing and is refused.
package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors of NewReader, for the caller to say what was expected.
var (
	ErrMagic  = errors.New("not a snapshot of this kind or version")
	ErrHeader = errors.New("taken under another configuration")
)

// Codec reads or writes one snapshot.
type Codec struct {
	w   *bytes.Buffer // writing when set
	r   []byte        // else reading from here
	err error
}

// NewWriter starts a snapshot with magic and header.
func NewWriter(magic string, header []byte) *Codec {
	c := &Codec{w: &bytes.Buffer{}}
	c.w.WriteString(magic)
	c.Bytes(&header, math.MaxInt, "header bytes")
	return c
}

// NewReader starts reading data, which must begin with magic and hold
// header exactly.
func NewReader(data []byte, magic string, header []byte) (*Codec, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, ErrMagic
	}
	c := &Codec{r: data[len(magic):]}
	var got []byte
	c.Bytes(&got, len(data), "header bytes")
	if c.err != nil {
		return nil, c.err
	}
	if !bytes.Equal(got, header) {
		return nil, ErrHeader
	}
	return c, nil
}

// Result is the written snapshot, or the first error.
func (c *Codec) Result() ([]byte, error) { return c.w.Bytes(), c.err }

// Finish ends reading: the first error, or one when bytes are left over.
func (c *Codec) Finish() error {
	if c.err == nil && len(c.r) != 0 {
		c.Fail("%d bytes left over", len(c.r))
	}
	return c.err
}

// Reading tells whether the codec reads.
func (c *Codec) Reading() bool { return c.w == nil }

// Err is the first error.
func (c *Codec) Err() error { return c.err }

// Fail records an error unless one is already recorded.
func (c *Codec) Fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// U64 reads or writes a number.
func (c *Codec) U64(p *uint64) {
	if c.w != nil {
		c.w.Write(binary.LittleEndian.AppendUint64(nil, *p))
		return
	}
	if c.err != nil {
		return
	}
	if len(c.r) < 8 {
		c.Fail("truncated")
		return
	}
	*p, c.r = binary.LittleEndian.Uint64(c.r), c.r[8:]
}

// I64 reads or writes a number.
func (c *Codec) I64(p *int64) {
	u := uint64(*p)
	c.U64(&u)
	*p = int64(u)
}

// Int reads or writes a number.
func (c *Codec) Int(p *int) {
	v := int64(*p)
	c.I64(&v)
	*p = int(v)
}

// F64 reads or writes a float, infinities and NaN included.
func (c *Codec) F64(p *float64) {
	u := math.Float64bits(*p)
	c.U64(&u)
	*p = math.Float64frombits(u)
}

// Finite reads or writes a finite float: read, an infinity or NaN is a
// corrupt snapshot (for state that never holds one).
func (c *Codec) Finite(p *float64) {
	c.F64(p)
	if c.Reading() && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
		c.Fail("a number is %v", *p)
	}
}

// Bool reads or writes a flag; read, anything but 0 and 1 is an error.
func (c *Codec) Bool(p *bool) {
	var v uint64
	if *p {
		v = 1
	}
	c.U64(&v)
	if c.Reading() && v > 1 {
		c.Fail("a flag is %d", v)
	}
	*p = v == 1
}

// zeroTime stands for the zero time, which has no Unix nanoseconds.
const zeroTime = math.MinInt64

// Time reads or writes a time (in UTC when read), the zero time included.
func (c *Codec) Time(p *time.Time) {
	v := int64(zeroTime)
	if !p.IsZero() {
		v = p.UnixNano()
	}
	c.I64(&v)
	if c.Reading() {
		if v == zeroTime {
			*p = time.Time{}
		} else {
			*p = time.Unix(0, v).UTC()
		}
	}
}

// Length writes n or reads a count of items of at least size bytes each,
// no more than limit (none when limit ≤ 0) and than what is left to read,
// so that a hostile count allocates nothing; what names the items in the
// error.
func (c *Codec) Length(n, size, limit int, what string) int {
	v := int64(n)
	c.I64(&v)
	if c.Reading() && c.err == nil && (v < 0 || limit > 0 && v > int64(limit) || v > int64(len(c.r)/max(size, 1))) {
		if limit > 0 {
			c.Fail("%d %s (at most %d)", v, what, limit)
		} else {
			c.Fail("%d %s (%d bytes left)", v, what, len(c.r))
		}
		return 0
	}
	return int(v)
}

// String reads or writes a string of at most limit bytes (none when ≤ 0).
func (c *Codec) String(p *string, limit int) {
	n := c.Length(len(*p), 1, limit, "bytes in a string")
	if c.w != nil {
		c.w.WriteString(*p)
		return
	}
	if c.err != nil {
		return
	}
	*p, c.r = string(c.r[:n]), c.r[n:]
}

// Bytes reads or writes a byte string of at most limit bytes (none when
// ≤ 0).
func (c *Codec) Bytes(p *[]byte, limit int, what string) {
	n := c.Length(len(*p), 1, limit, what)
	if c.w != nil {
		c.w.Write(*p)
		return
	}
	if c.err != nil {
		return
	}
	*p, c.r = bytes.Clone(c.r[:n]), c.r[n:]
}

// F64s reads or writes a slice of floats (F64 each).
func (c *Codec) F64s(p *[]float64) {
	n := c.Length(len(*p), 8, 0, "numbers")
	if c.Reading() {
		*p = make([]float64, n)
	}
	for i := range *p {
		c.F64(&(*p)[i])
	}
}

// Raw writes b, or reads len(b) bytes into it.
func (c *Codec) Raw(b []byte) {
	if c.w != nil {
		c.w.Write(b)
		return
	}
	if c.err != nil {
		return
	}
	if len(c.r) < len(b) {
		c.Fail("truncated")
		return
	}
	copy(b, c.r)
	c.r = c.r[len(b):]
}

// F32s reads or writes the floats of a slice whose length both sides know.
func (c *Codec) F32s(p []float32) {
	b := make([]byte, 4*len(p))
	for i := range p {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(p[i]))
	}
	c.Raw(b)
	for i := range p {
		p[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// U16s reads or writes the numbers of a slice whose length both sides know.
func (c *Codec) U16s(p []uint16) {
	b := make([]byte, 2*len(p))
	for i := range p {
		binary.LittleEndian.PutUint16(b[2*i:], p[i])
	}
	c.Raw(b)
	for i := range p {
		p[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
}
