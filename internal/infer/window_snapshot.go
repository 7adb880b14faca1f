package infer

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// ErrSnapshot is wrapped by every error of Window.UnmarshalBinary.
var ErrSnapshot = errors.New("recent window snapshot")

// windowMagic starts every window snapshot; the last byte is the format
// version.
const windowMagic = "SEERWIN\x01"

// windowSeries is the saved form of one series of the window.
type windowSeries struct {
	Entity, Name string
	Labels       map[string]string
	Points       []rca.Point
}

// MarshalBinary saves the recent points of every series, so that after a
// restart the change sweep and investigations judge against the minutes
// before it rather than against nothing.
func (w *Window) MarshalBinary() ([]byte, error) {
	w.mu.Lock()
	out := make([]windowSeries, 0, len(w.series))
	for _, k := range slices.Sorted(maps.Keys(w.series)) {
		sr := w.series[k]
		out = append(out, windowSeries{Entity: sr.entity, Name: sr.base, Labels: sr.labels, Points: slices.Clone(sr.pts)})
	}
	w.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(windowMagic)
	if err := gob.NewEncoder(&b).Encode(out); err != nil {
		return nil, fmt.Errorf("encoding the recent window: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing the
// window's series (within its own bounds: MaxSeries, MaxPoints and Span
// apply as to samples added); on error the window is left as it was.
func (w *Window) UnmarshalBinary(data []byte) error {
	if len(data) < len(windowMagic) || string(data[:len(windowMagic)]) != windowMagic {
		return fmt.Errorf("%w: not a seer window snapshot (version %q expected)", ErrSnapshot, windowMagic)
	}
	var in []windowSeries
	if err := gob.NewDecoder(bytes.NewReader(data[len(windowMagic):])).Decode(&in); err != nil {
		return fmt.Errorf("%w: decoding: %v", ErrSnapshot, err)
	}
	fresh := NewWindow(w.cfg)
	for _, ws := range in {
		samples := make([]signal.Sample, len(ws.Points))
		for i, p := range ws.Points {
			samples[i] = signal.Sample{Time: p.Time, Entity: ws.Entity, Name: ws.Name, Labels: ws.Labels, Value: p.Value}
		}
		fresh.Add(samples)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.series, w.dropped = fresh.series, fresh.dropped
	return nil
}
