package promrw

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// series is one TimeSeries of a WriteRequest; its byte slices point into
// the request body.
type series struct {
	labels     []label
	samples    []point
	histograms int
}

type label struct{ name, value []byte }

type point struct {
	v  float64
	ms int64
}

// errWire is wrapped by every decoding error.
var errWire = errors.New("not a remote_write WriteRequest")

// prompb.MetricMetadata's types: UNKNOWN is what an untyped family is
// declared.
const (
	metricTypeUnknown = 0
	metricTypeCounter = 1
)

// decode walks a prompb.WriteRequest and calls fn for each TimeSeries; s is
// reused between calls. meta, when not nil, is called for each
// MetricMetadata (field 3) with its type and metric family name.
func decode(buf []byte, s *series, fn func(*series), meta func(typ uint64, family []byte)) error {
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return fmt.Errorf("%w: bad tag: %v", errWire, protowire.ParseError(n))
		}
		buf = buf[n:]
		if num == 1 && typ == protowire.BytesType {
			msg, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return fmt.Errorf("%w: bad timeseries: %v", errWire, protowire.ParseError(n))
			}
			buf = buf[n:]
			s.labels, s.samples, s.histograms = s.labels[:0], s.samples[:0], 0
			if err := decodeSeries(msg, s); err != nil {
				return err
			}
			fn(s)
			continue
		}
		if num == 3 && typ == protowire.BytesType && meta != nil {
			msg, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return fmt.Errorf("%w: bad metadata: %v", errWire, protowire.ParseError(n))
			}
			buf = buf[n:]
			mt, family, err := decodeMetadata(msg)
			if err != nil {
				return err
			}
			meta(mt, family)
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return fmt.Errorf("%w: bad field %d: %v", errWire, num, protowire.ParseError(n))
		}
		buf = buf[n:]
	}
	return nil
}

// decodeMetadata reads the type (field 1) and the metric family name
// (field 2) of a MetricMetadata; help and unit are skipped.
func decodeMetadata(buf []byte) (typ uint64, family []byte, err error) {
	for len(buf) > 0 {
		num, wt, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return 0, nil, fmt.Errorf("%w: bad tag in metadata: %v", errWire, protowire.ParseError(n))
		}
		buf = buf[n:]
		switch {
		case num == 1 && wt == protowire.VarintType:
			v, n := protowire.ConsumeVarint(buf)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: bad metadata type: %v", errWire, protowire.ParseError(n))
			}
			typ, buf = v, buf[n:]
		case num == 2 && wt == protowire.BytesType:
			v, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: bad metadata name: %v", errWire, protowire.ParseError(n))
			}
			family, buf = v, buf[n:]
		default:
			n = protowire.ConsumeFieldValue(num, wt, buf)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: bad field %d in metadata: %v", errWire, num, protowire.ParseError(n))
			}
			buf = buf[n:]
		}
	}
	return typ, family, nil
}

func decodeSeries(buf []byte, s *series) error {
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return fmt.Errorf("%w: bad tag in timeseries: %v", errWire, protowire.ParseError(n))
		}
		buf = buf[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2 || num == 4) {
			msg, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return fmt.Errorf("%w: bad field %d in timeseries: %v", errWire, num, protowire.ParseError(n))
			}
			buf = buf[n:]
			switch num {
			case 1:
				l, err := decodeLabel(msg)
				if err != nil {
					return err
				}
				s.labels = append(s.labels, l)
			case 2:
				p, err := decodeSample(msg)
				if err != nil {
					return err
				}
				s.samples = append(s.samples, p)
			case 4:
				s.histograms++
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return fmt.Errorf("%w: bad field %d in timeseries: %v", errWire, num, protowire.ParseError(n))
		}
		buf = buf[n:]
	}
	return nil
}

func decodeLabel(buf []byte) (label, error) {
	var l label
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return l, fmt.Errorf("%w: bad tag in label: %v", errWire, protowire.ParseError(n))
		}
		buf = buf[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return l, fmt.Errorf("%w: bad label: %v", errWire, protowire.ParseError(n))
			}
			buf = buf[n:]
			if num == 1 {
				l.name = v
			} else {
				l.value = v
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return l, fmt.Errorf("%w: bad field %d in label: %v", errWire, num, protowire.ParseError(n))
		}
		buf = buf[n:]
	}
	return l, nil
}

func decodeSample(buf []byte) (point, error) {
	var p point
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return p, fmt.Errorf("%w: bad tag in sample: %v", errWire, protowire.ParseError(n))
		}
		buf = buf[n:]
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(buf)
			if n < 0 {
				return p, fmt.Errorf("%w: bad sample value: %v", errWire, protowire.ParseError(n))
			}
			p.v, buf = math.Float64frombits(v), buf[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(buf)
			if n < 0 {
				return p, fmt.Errorf("%w: bad sample timestamp: %v", errWire, protowire.ParseError(n))
			}
			p.ms, buf = int64(v), buf[n:]
		default:
			n = protowire.ConsumeFieldValue(num, typ, buf)
			if n < 0 {
				return p, fmt.Errorf("%w: bad field %d in sample: %v", errWire, num, protowire.ParseError(n))
			}
			buf = buf[n:]
		}
	}
	return p, nil
}

// Encoding, for tests and benchmarks: the inverse of decode.

// Series is one series to encode: its labels in name, value pairs
// (including __name__) and its samples.
type Series struct {
	Labels  []string
	Samples []Sample
}

// Sample is one value at a time in unix milliseconds.
type Sample struct {
	Value float64
	MS    int64
}

// Encode marshals a WriteRequest (uncompressed) of ss.
func Encode(ss []Series) []byte {
	var out, ts, sub []byte
	for _, s := range ss {
		ts = ts[:0]
		for i := 0; i+1 < len(s.Labels); i += 2 {
			sub = sub[:0]
			sub = protowire.AppendTag(sub, 1, protowire.BytesType)
			sub = protowire.AppendString(sub, s.Labels[i])
			sub = protowire.AppendTag(sub, 2, protowire.BytesType)
			sub = protowire.AppendString(sub, s.Labels[i+1])
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sub)
		}
		for _, p := range s.Samples {
			sub = sub[:0]
			sub = protowire.AppendTag(sub, 1, protowire.Fixed64Type)
			sub = protowire.AppendFixed64(sub, math.Float64bits(p.Value))
			sub = protowire.AppendTag(sub, 2, protowire.VarintType)
			sub = protowire.AppendVarint(sub, uint64(p.MS))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sub)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, ts)
	}
	return out
}

// EncodeCounters is a WriteRequest of metadata alone, declaring the metric
// families named counters, as Prometheus sends it once a minute; for tests
// and tools.
func EncodeCounters(families ...string) []byte {
	var out, sub []byte
	for _, f := range families {
		sub = sub[:0]
		sub = protowire.AppendTag(sub, 1, protowire.VarintType)
		sub = protowire.AppendVarint(sub, metricTypeCounter)
		sub = protowire.AppendTag(sub, 2, protowire.BytesType)
		sub = protowire.AppendString(sub, f)
		out = protowire.AppendTag(out, 3, protowire.BytesType)
		out = protowire.AppendBytes(out, sub)
	}
	return out
}
