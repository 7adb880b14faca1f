package metric

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// movedShare is the least share of the largest metric's contribution to a
// row's entity score that names a metric as one that moved.
const movedShare = 0.25

// movedFloor is the least contribution of a metric to a row's entity score
// that names it as moved: its residual and its departure from its recent
// level, each against its usual one, squared and summed (9: three times
// the usual).
const movedFloor = 9.0

// maxMovedNamed bounds the metrics a joint finding names in its summary;
// the evidence counts the rest.
const maxMovedNamed = 8

// joint scores the judged series of one entity together (see Entity). Its
// members are the first Config.EntityMetrics judged series the entity
// shows until one of them repeats (a whole scrape has then been seen);
// from then on each scrape is a row: the members' values, a member that
// did not report carrying its last value. A row closes when every member
// has reported, or when a member reports again.
type joint struct {
	members map[key]int // series → column
	keys    []key       // column → series
	names   []string    // column → series as a finding names it
	det     *Entity     // nil while the members are being gathered
	solo    bool        // the entity has one judged series: no joint model
	row     []float64
	has     []bool
	filled  int
	rowTime time.Time
	last    time.Time // the time of the newest sample of a member
	// The anomalous run of rows: whether it was reported and when.
	emitted  bool
	lastEmit time.Time
	// pending holds the members' own findings for the open row, until the
	// row is scored (or Process returns): a finding the entity score
	// shares is folded into one.
	pending []pendingFinding
	moved   []int        // scratch
	res     EntityResult // the last row's
}

type pendingFinding struct {
	col int
	o   signal.Observation
}

// jointOf returns the joint model smp's series belongs to, adding the
// series to its entity's members while they are being gathered, or nil.
func (s *Stage) jointOf(k key, ser *series, smp *signal.Sample) (*joint, int) {
	if s.cfg.EntityMetrics == 0 || ser.free {
		return nil, -1
	}
	j := s.joints[k.entity]
	if j == nil {
		j = &joint{members: map[key]int{}}
		s.joints[k.entity] = j
	}
	if j.solo {
		return nil, -1
	}
	col, ok := j.members[k]
	if !ok {
		if j.det != nil || len(j.keys) >= maxGathered*s.cfg.EntityMetrics {
			return nil, -1
		}
		j.members[k] = -1
		j.keys = append(j.keys, k)
		name := smp.Name
		if k.labels != "" {
			name = seriesString(smp.Name, smp.Labels, slices.Sorted(maps.Keys(smp.Labels)), 0)
		}
		j.names = append(j.names, name)
		j.last = smp.Time
		return nil, -1 // gathering: the first scrape is not a row
	}
	if j.det == nil {
		if !smp.Time.After(j.last) {
			return nil, -1
		}
		// A series repeats: the entity's series of one scrape are all there.
		s.chooseMembers(j)
		det, err := NewEntity(s.cfg.Entity, len(j.keys))
		if len(j.keys) < 2 || err != nil { // one series: its own detector is enough (err cannot happen: NewStage validated the config)
			j.solo, j.members, j.keys, j.names = true, nil, nil, nil
			return nil, -1
		}
		j.det = det
		j.row = make([]float64, len(j.keys))
		j.has = make([]bool, len(j.keys))
		for i := range j.row {
			j.row[i] = math.NaN() // no value yet: Entity reads the running mean
		}
		if col, ok = j.members[k]; !ok {
			return nil, -1
		}
	}
	return j, col
}

// maxGathered bounds the series gathered as candidates, in multiples of
// EntityMetrics.
const maxGathered = 8

// chooseMembers keeps EntityMetrics of the gathered series, taking the
// metric names in turn (in the order the entity showed them), so that a
// host's CPU, load, memory and network are all in the model before a
// second CPU core is.
func (s *Stage) chooseMembers(j *joint) {
	var names []string
	byName := map[string][]int{}
	for i, k := range j.keys {
		if _, ok := byName[k.name]; !ok {
			names = append(names, k.name)
		}
		byName[k.name] = append(byName[k.name], i)
	}
	var pick []int
	for round := 0; len(pick) < min(len(j.keys), s.cfg.EntityMetrics); round++ {
		for _, n := range names {
			if round < len(byName[n]) && len(pick) < s.cfg.EntityMetrics {
				pick = append(pick, byName[n][round])
			}
		}
	}
	slices.Sort(pick)
	keys, labels := make([]key, len(pick)), make([]string, len(pick))
	clear(j.members)
	for c, i := range pick {
		keys[c], labels[c] = j.keys[i], j.names[i]
		j.members[keys[c]] = c
	}
	j.keys, j.names = keys, labels
}

// openRow closes the open row of j when the member col reports again: its
// sample belongs to the next row.
func (s *Stage) openRow(out []signal.Observation, j *joint, col int, entity string) []signal.Observation {
	if j.filled > 0 && j.has[col] {
		out = s.closeRow(out, j, entity)
	}
	return out
}

// hold keeps a member's finding until its row is scored.
func (s *Stage) hold(j *joint, col int, o signal.Observation) {
	if len(j.pending) == 0 {
		s.held = append(s.held, j)
	}
	j.pending = append(j.pending, pendingFinding{col: col, o: o})
}

// fillRow adds a member's value to its entity's open row, scoring the row
// when every member has reported; it returns out with the row's findings.
func (s *Stage) fillRow(out []signal.Observation, j *joint, col int, smp *signal.Sample) []signal.Observation {
	if j.filled == 0 {
		j.rowTime = smp.Time
	}
	j.row[col], j.has[col] = smp.Value, true
	j.filled++
	j.last = smp.Time
	if j.filled == len(j.row) {
		out = s.closeRow(out, j, smp.Entity)
	}
	return out
}

// closeRow scores the open row. The members' own findings on it that the
// row names as moved (see movedFloor) become one finding naming every
// member that moved; a joint anomaly no member reported is a finding of
// its own at EntityReport, once per anomalous run and Repeat. Findings not
// folded go out as they were.
func (s *Stage) closeRow(out []signal.Observation, j *joint, entity string) []signal.Observation {
	r := j.det.Observe(j.row)
	j.res = r
	clear(j.has)
	j.filled = 0
	s.stats.EntityRows++
	j.moved = j.det.Moved(j.moved[:0], movedShare)
	kept := j.moved[:0]
	for _, m := range j.moved {
		if j.det.Contribution(m) >= movedFloor {
			kept = append(kept, m)
		}
	}
	j.moved = kept
	if !r.Anomalous {
		j.emitted = false
	}
	if len(j.pending) > 0 {
		return s.fold(out, j, r)
	}
	if !r.Anomalous || r.Score < s.cfg.EntityReport || (j.emitted && j.rowTime.Sub(j.lastEmit) < s.cfg.Repeat) {
		return out
	}
	o, ok := s.jointFinding(j, entity, r)
	if !ok {
		return out
	}
	s.jointEvidence(&o, j, r)
	j.emitted, j.lastEmit = true, j.rowTime
	s.stats.EntityFindings++
	return append(out, o)
}

// fold makes the members' findings on the row that moved together one
// finding: the strongest, naming the others.
func (s *Stage) fold(out []signal.Observation, j *joint, r EntityResult) []signal.Observation {
	base, along := -1, 0
	for i, p := range j.pending {
		if !j.isMoved(p.col) {
			continue
		}
		along++
		if base < 0 || p.o.Score > j.pending[base].o.Score {
			base = i
		}
	}
	if base < 0 || len(j.moved) < 2 {
		return s.release(out, j)
	}
	o := j.pending[base].o
	kept := j.pending[:0]
	for i, p := range j.pending {
		if i != base && !j.isMoved(p.col) {
			kept = append(kept, p)
		}
	}
	j.pending = kept
	s.stats.EntityFolded += uint64(along - 1)
	s.jointEvidence(&o, j, r)
	s.stats.EntityFindings++
	if r.Anomalous {
		j.emitted, j.lastEmit = true, j.rowTime
	}
	out = append(out, o)
	return s.release(out, j)
}

func (j *joint) isMoved(col int) bool {
	for _, m := range j.moved {
		if m == col {
			return true
		}
	}
	return false
}

// jointFinding is the finding of a joint anomaly no member's detector
// reported, named by the member that moved most of those whose meaning
// tells trouble in the direction they moved; false when there is none (a
// host's series moving together as it goes idle is no finding).
func (s *Stage) jointFinding(j *joint, entity string, r EntityResult) (signal.Observation, bool) {
	for _, m := range j.moved {
		ser := s.series[j.keys[m]]
		v, mean := j.row[m], j.det.Mean(m)
		dir, where := Up, "above"
		if v < mean {
			dir, where = Down, "below"
		}
		if ser == nil || !ser.judged || ser.mute == dir {
			continue
		}
		return signal.Observation{
			Time:     j.rowTime,
			Start:    j.rowTime,
			Entity:   entity,
			Kind:     signal.MetricAnomaly,
			Name:     j.keys[m].name,
			Score:    r.Score,
			Actual:   v,
			Expected: mean,
			Low:      j.det.Low(m),
			High:     j.det.High(m),
			Summary:  fmt.Sprintf("%s %s %s its usual relation to the entity's other metrics (joint)", j.names[m], num(v), where),
			Evidence: map[string]string{"feature": FeatureJoint, "direction": dir, "series": j.names[m]},
		}, true
	}
	s.stats.Unjudged++
	return signal.Observation{}, false
}

// jointEvidence names on o the members that moved and the entity score.
func (s *Stage) jointEvidence(o *signal.Observation, j *joint, r EntityResult) {
	names := make([]string, 0, min(len(j.moved), maxMovedNamed))
	for _, m := range j.moved[:min(len(j.moved), maxMovedNamed)] {
		names = append(names, j.names[m])
	}
	o.Evidence["moved"] = strings.Join(names, " ")
	o.Evidence["moved_count"] = strconv.Itoa(len(j.moved))
	o.Evidence["entity_score"] = strconv.FormatFloat(r.Score, 'f', 3, 64)
	if len(j.moved) > 1 {
		more := ""
		if len(j.moved) > maxMovedNamed {
			more = fmt.Sprintf(", …%d more", len(j.moved)-maxMovedNamed)
		}
		o.Summary += fmt.Sprintf("; %d of the entity's metrics moved: %s%s", len(j.moved), strings.Join(names, ", "), more)
	}
}

// release appends the pending findings to out.
func (s *Stage) release(out []signal.Observation, j *joint) []signal.Observation {
	for _, p := range j.pending {
		out = append(out, p.o)
	}
	j.pending = j.pending[:0]
	return out
}
