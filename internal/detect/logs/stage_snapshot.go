package logs

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"time"
)

// stageMagic starts every stage snapshot; the last byte is the format
// version, raised whenever the layout below changes.
const stageMagic = "SEERLOG\x01"

// The saved form of the stage: exported mirrors of its state, so that gob
// can carry them and the live types stay free to change.
type (
	stageState struct {
		Miner    []byte
		Entities []entityState
	}
	entityState struct {
		Name        string
		First, Last time.Time
		Total       int64
		Errs        counterState
		Templates   []templateState
	}
	templateState struct {
		ID          uint64
		First, Last time.Time
		C           counterState
		N           int64
		Base        float64
		Example     string
		RareAt      time.Time
		Silent      bool
		Warn        bool
	}
	counterState struct {
		Win     int64
		N       int
		Start   time.Time
		Example string
		EWMA    float64
		Closed  int
		Firing  bool
		Held    time.Time
	}
)

func (c *counter) state() counterState {
	return counterState{c.win, c.n, c.start, c.example, c.ewma, c.closed, c.firing, c.held}
}

func (cs counterState) counter() counter {
	// The counts of closed windows (hist) are not kept: they are for showing.
	return counter{win: cs.Win, n: cs.N, start: cs.Start, example: cs.Example, ewma: cs.EWMA, closed: cs.Closed, firing: cs.Firing, held: cs.Held}
}

// MarshalBinary saves the whole stage, the miner's templates and every
// entity's baselines, so that a restart neither forgets what is normal nor
// reports every template as new again. The configuration is not saved: the
// restored stage keeps its own.
func (s *Stage) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.miner.MarshalBinary()
	if err != nil {
		return nil, err
	}
	st := stageState{Miner: m, Entities: make([]entityState, 0, len(s.ents))}
	for name, e := range s.ents {
		es := entityState{Name: name, First: e.first, Last: e.last, Total: e.total, Errs: e.errs.state(),
			Templates: make([]templateState, 0, len(e.tmpls))}
		for id, ts := range e.tmpls {
			es.Templates = append(es.Templates, templateState{ID: id, First: ts.first, Last: ts.last, C: ts.c.state(),
				N: ts.n, Base: ts.base, Example: ts.example, RareAt: ts.rareAt, Silent: ts.silent, Warn: ts.warn})
		}
		st.Entities = append(st.Entities, es)
	}
	var b bytes.Buffer
	b.WriteString(stageMagic)
	if err := gob.NewEncoder(&b).Encode(&st); err != nil {
		return nil, fmt.Errorf("encoding the log stage: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary restores a snapshot taken by MarshalBinary, replacing the
// stage's state; on error the stage is left as it was.
func (s *Stage) UnmarshalBinary(data []byte) error {
	if len(data) < len(stageMagic) || string(data[:len(stageMagic)]) != stageMagic {
		return fmt.Errorf("%w: not a seer log stage snapshot (version %q expected)", ErrSnapshot, stageMagic)
	}
	var st stageState
	if err := gob.NewDecoder(bytes.NewReader(data[len(stageMagic):])).Decode(&st); err != nil {
		return fmt.Errorf("%w: decoding the log stage: %v", ErrSnapshot, err)
	}
	var m Miner
	if err := m.UnmarshalBinary(st.Miner); err != nil {
		return err
	}
	ents := make(map[string]*entity, len(st.Entities))
	for _, es := range st.Entities {
		e := &entity{first: es.First, last: es.Last, total: es.Total, errs: es.Errs.counter(),
			tmpls: make(map[uint64]*tmplState, len(es.Templates))}
		for _, ts := range es.Templates {
			e.tmpls[ts.ID] = &tmplState{first: ts.First, last: ts.Last, c: ts.C.counter(), n: ts.N, base: ts.Base,
				example: ts.Example, rareAt: ts.RareAt, silent: ts.Silent, warn: ts.Warn}
		}
		ents[es.Name] = e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.miner = &m
	s.ents = ents
	return nil
}
