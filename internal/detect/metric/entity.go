package metric

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// EntityConfig holds the knobs of the entity detector, which scores the
// metrics of one entity (a host, a service) jointly, row by row.
type EntityConfig struct {
	// Threshold is the calibrated score at or above which a row is
	// anomalous.
	Threshold float64 `yaml:"threshold"`
	// HalfDecades is the improbability, log10(1/p) of the row's p-value
	// against the entity's own recent raw scores, that scores 0.5: score =
	// 1 - 2^(-log10(1/p)/HalfDecades), which ranks every row (no score
	// saturates) and means the same on every entity.
	HalfDecades float64 `yaml:"half_decades"`
	// Components is the largest number of principal components of the
	// standardised metrics taken as the entity's normal subspace.
	Components int `yaml:"components"`
	// Variance is the share of the variance the components must explain;
	// fewer than Components are kept when they already do.
	Variance float64 `yaml:"variance"`
	// Refit is the number of rows between two eigen-decompositions of the
	// running covariance (and updates of the metrics' scales).
	Refit int `yaml:"refit"`
	// MemoryRows is the number of rows over which the running means,
	// scales and covariance average: 1/n weighting until then.
	MemoryRows int `yaml:"memory_rows"`
	// ScaleFloor is the least residual of a metric, relative to its range,
	// that counts as its usual residual: a metric the others predict
	// perfectly does not shout at its first small miss.
	ScaleFloor float64 `yaml:"scale_floor"`
	// ClipZ bounds a standardised deviation, in ranges, so that a metric
	// constant until now cannot swamp the covariance with its first move.
	ClipZ float64 `yaml:"clip_z"`
	// Temporal weighs, against the subspace residuals, each metric's
	// departure from its own recent level (an EWMA with FastAlpha): a
	// change in time that keeps the metrics' usual proportions.
	Temporal float64 `yaml:"temporal"`
	// FastAlpha is the EWMA weight of that recent level.
	FastAlpha float64 `yaml:"fast_alpha"`
	// Smooth is the number of rows whose raw scores are averaged, the row
	// itself and the ones before it: a fault lasts several rows, noise not.
	Smooth int `yaml:"smooth"`
	// LearnUntil is the calibrated score at which a row stops teaching the
	// model: a row learns 1 - Score/LearnUntil of its weight, so that an
	// anomaly does not become the norm while it lasts. A lasting change
	// still does in the end: the calibration learns every row, so once a
	// change has lasted its scores are no longer improbable, and the
	// model learns it.
	LearnUntil float64 `yaml:"learn_until"`
	// CalibrationRows is the half-life, in rows, of the score distribution
	// that p-values are taken against.
	CalibrationRows int `yaml:"calibration_rows"`
	// WarmUp is the number of rows learned from before a score is given.
	WarmUp int `yaml:"warm_up"`
}

// DefaultEntityConfig is the one configuration used on every entity.
func DefaultEntityConfig() EntityConfig {
	return EntityConfig{
		Threshold:       0.5,
		HalfDecades:     1.5,
		Components:      10,
		Variance:        0.99,
		Refit:           256,
		MemoryRows:      20000,
		ScaleFloor:      0.01,
		ClipZ:           20,
		Temporal:        1,
		FastAlpha:       0.05,
		Smooth:          3,
		LearnUntil:      0.5,
		CalibrationRows: 20000,
		WarmUp:          30,
	}
}

// maxEntityMetrics bounds the metrics of one entity detector.
const maxEntityMetrics = 256

// Validate reports every problem of the configuration, each naming its field.
func (c EntityConfig) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("entity detector: %s is %v, want %s", field, v, want))
	}
	if !(c.Threshold > 0 && c.Threshold <= 1) {
		bad("Threshold", c.Threshold, "in (0,1]")
	}
	if !(c.HalfDecades > 0 && c.HalfDecades <= 100) {
		bad("HalfDecades", c.HalfDecades, "in (0,100]")
	}
	if !(c.ClipZ > 0) {
		bad("ClipZ", c.ClipZ, "> 0")
	}
	if !(c.Temporal >= 0) {
		bad("Temporal", c.Temporal, ">= 0")
	}
	if !(c.FastAlpha > 0 && c.FastAlpha <= 1) {
		bad("FastAlpha", c.FastAlpha, "in (0,1]")
	}
	if !(c.LearnUntil > 0) {
		bad("LearnUntil", c.LearnUntil, "> 0")
	}
	if c.Components < 0 {
		bad("Components", c.Components, ">= 0")
	}
	if !(c.Variance > 0 && c.Variance <= 1) {
		bad("Variance", c.Variance, "in (0,1]")
	}
	if c.Refit < 1 {
		bad("Refit", c.Refit, ">= 1")
	}
	if c.MemoryRows < 2 {
		bad("MemoryRows", c.MemoryRows, ">= 2")
	}
	if !(c.ScaleFloor > 0) {
		bad("ScaleFloor", c.ScaleFloor, "> 0")
	}
	if c.Smooth < 1 || c.Smooth > maxSmooth {
		bad("Smooth", c.Smooth, fmt.Sprintf("in [1,%d]", maxSmooth))
	}
	if c.CalibrationRows < 1 {
		bad("CalibrationRows", c.CalibrationRows, ">= 1")
	}
	if c.WarmUp < 2 {
		bad("WarmUp", c.WarmUp, ">= 2")
	}
	return errors.Join(errs...)
}

const maxSmooth = 16

// calibrationReset is the refit at which the calibration forgets the
// scores of the cold start.
const calibrationReset = 8

// EntityResult is the verdict on one row of an entity.
type EntityResult struct {
	// Score is the calibrated score in [0,1]: log10(1/p)/Decades, where p
	// is the share of the entity's recent rows that scored as high.
	Score float64
	// Raw is the uncalibrated score: the root mean square of the metrics'
	// standardised residuals, averaged over the last Smooth rows.
	Raw float64
	// Anomalous is Score >= Threshold after warm-up.
	Anomalous bool
	// Metric is the index of the metric that deviated most.
	Metric int
}

// Mean is metric j's running mean.
func (e *Entity) Mean(j int) float64 { return e.mean[j] }

// Low and High are the range metric j has shown.
func (e *Entity) Low(j int) float64 { return e.lo[j] }

// High is the top of the range metric j has shown.
func (e *Entity) High(j int) float64 { return e.hi[j] }

// Contribution is metric j's contribution to the last row's raw score: its
// residual off the subspace and its departure from its recent level, each
// against its usual one, squared and summed.
func (e *Entity) Contribution(j int) float64 { return e.contrib[j] }

// Rows is the number of rows learned from.
func (e *Entity) Rows() int { return e.rows }

// Skipped is the number of rows of the wrong length ignored.
func (e *Entity) Skipped() int { return e.skipped }

// Moved appends to dst the metrics whose share of the last row's score is
// at least share times the largest, most deviant first: the metrics a
// finding on the entity names.
func (e *Entity) Moved(dst []int, share float64) []int {
	top := 0.0
	for _, c := range e.contrib {
		top = max(top, c)
	}
	if top == 0 {
		return dst
	}
	start := len(dst)
	for j, c := range e.contrib {
		if c >= share*top {
			dst = append(dst, j)
		}
	}
	slices.SortFunc(dst[start:], func(a, b int) int {
		switch {
		case e.contrib[a] > e.contrib[b]:
			return -1
		case e.contrib[a] < e.contrib[b]:
			return 1
		}
		return a - b
	})
	return dst
}

// Entity scores the rows of one entity's metrics jointly: each metric is
// standardised by its running mean and scale, the row is projected on the
// principal subspace of the running covariance (the way the metrics
// normally move together), and each metric's residual off that subspace is
// judged against that metric's usual residual. A host whose CPU, load and
// context switches rise together in the usual proportion stays in the
// subspace; one metric breaking from the others, or all of them moving in
// a way they never do, leaves it. The raw score is the largest residual;
// the production score is its p-value against the entity's own recent raw
// scores, so that one threshold holds across entities.
//
// State is O(n²) for n metrics: the covariance, the basis and the scratch
// of the eigen-decomposition, 4n² numbers (38 metrics: 47 KB, 1.2 KB a
// metric). A row costs O(n·k) for the projection and O(n²) for the
// covariance update; every Refit rows a Jacobi eigen-decomposition costs
// O(n³) per sweep.
type Entity struct {
	cfg     EntityConfig
	n       int // metrics
	rows    int
	skipped int
	k       int // components in use

	lo, hi  []float64 // the range each metric has shown
	mean    []float64 // running mean
	cov     []float64 // n×n running covariance of the raw deviations (upper half)
	basis   []float64 // k×n principal directions, row-major
	resDev  []float64 // running mean absolute residual per metric, raw units
	fast    []float64 // each metric's recent level, standardised
	fastDev []float64 // its usual departure from it
	contrib []float64 // each metric's share of the last row's score
	scale   []float64 // each metric's scale, set at each refit
	dx      []float64 // scratch: the row's clipped deviations
	z, proj []float64 // scratch: the standardised row, its projection
	eig     eigenScratch

	recent [maxSmooth]float64

	cal Calibrator
}

// NewEntity returns a detector for an entity of n metrics, or an error
// naming what is wrong with cfg or n.
func NewEntity(cfg EntityConfig, n int) (*Entity, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n < 1 || n > maxEntityMetrics {
		return nil, fmt.Errorf("entity detector: %d metrics, want 1 to %d", n, maxEntityMetrics)
	}
	f := func() []float64 { return make([]float64, n) }
	e := &Entity{cfg: cfg, n: n, lo: f(), hi: f(), mean: f(), resDev: f(), fast: f(), fastDev: f(), contrib: f(), scale: f(), dx: f(), z: f(), proj: f(),
		cov: make([]float64, n*n), basis: make([]float64, n*n)}
	e.eig = newEigenScratch(n)
	e.cal = NewCalibrator(cfg.CalibrationRows)
	return e, nil
}

// Observe scores one row (every metric of one timestamp, in the order
// given at construction) and then learns from it. NaN and infinite values
// are replaced by the metric's running mean; a row of the wrong length is
// skipped (see Skipped).
func (e *Entity) Observe(row []float64) EntityResult {
	cfg := &e.cfg
	n := e.n
	if len(row) != n {
		e.skipped++
		return EntityResult{}
	}
	e.rows++
	if e.rows == 1 {
		for j := range n {
			v := row[j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			e.lo[j], e.hi[j], e.mean[j] = v, v, v
		}
		e.rescale()
		return EntityResult{}
	}
	// Deviations from the running means, in raw units and standardised by
	// the scales of the last refit (the basis was fitted in those).
	for j := range n {
		v := row[j]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = e.mean[j]
		}
		s := e.scale[j]
		d := min(max(v-e.mean[j], -cfg.ClipZ*s), cfg.ClipZ*s)
		e.dx[j] = d
		e.z[j] = d / s
	}
	// Residual off the principal subspace.
	copy(e.proj, e.z)
	for c := range e.k {
		b := e.basis[c*n : (c+1)*n]
		var dot float64
		for j := range n {
			dot += b[j] * e.z[j]
		}
		for j := range n {
			e.proj[j] -= dot * b[j]
		}
	}
	// Each metric's squared residual against its usual one, plus its
	// departure from its own recent level against its usual departure.
	top, arg := 0.0, 0
	var ss float64
	ta := max(1/float64(e.rows), 1/float64(cfg.MemoryRows))
	for j := range n {
		res := math.Abs(e.proj[j]) * e.scale[j] // raw units
		e.proj[j] = res
		r := res / max(k1*e.resDev[j], cfg.ScaleFloor*e.scale[j])
		c := r * r
		if cfg.Temporal > 0 {
			d := math.Abs(e.z[j] - e.fast[j])
			q := d / max(k1*e.fastDev[j], cfg.ScaleFloor)
			c += cfg.Temporal * q * q
			if e.rows > 2 {
				e.fastDev[j] += ta * (d - e.fastDev[j])
			}
			e.fast[j] += cfg.FastAlpha * (e.z[j] - e.fast[j])
		}
		e.contrib[j] = c
		ss += c
		if c > top {
			top, arg = c, j
		}
	}
	raw := math.Sqrt(ss / float64(n))
	// Smooth over the last rows, causally.
	copy(e.recent[1:cfg.Smooth], e.recent[:cfg.Smooth-1])
	e.recent[0] = raw
	var sm float64
	for _, r := range e.recent[:cfg.Smooth] {
		sm += r
	}
	sm /= float64(cfg.Smooth)
	res := EntityResult{Raw: sm, Metric: arg}
	warm := e.rows > cfg.WarmUp
	if warm {
		res.Score = e.cal.Likelihood(sm, cfg.HalfDecades)
		res.Anomalous = res.Score >= cfg.Threshold
	}
	// Learn, the less the more anomalous the row.
	learn := 1.0
	if warm {
		learn = max(0, 1-res.Score/cfg.LearnUntil)
	}
	if e.rows == calibrationReset*cfg.Refit {
		// The scores of a model still finding its scales are no sample of
		// its scores to come: they are forgotten once it has refitted a
		// few times.
		e.cal = NewCalibrator(cfg.CalibrationRows)
	}
	e.cal.Add(sm)
	a := max(1/float64(e.rows), 1/float64(cfg.MemoryRows)) * learn
	for j := range n {
		v := row[j]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		e.lo[j], e.hi[j] = min(e.lo[j], v), max(e.hi[j], v)
		d := v - e.mean[j]
		e.mean[j] += a * d
		e.resDev[j] += a * (e.proj[j] - e.resDev[j])
	}
	for i := range n {
		di := e.dx[i]
		ci := e.cov[i*n : (i+1)*n]
		for j := i; j < n; j++ {
			ci[j] += a * (di*e.dx[j] - ci[j])
		}
	}
	if e.rows%cfg.Refit == 0 || e.rows == cfg.WarmUp {
		e.rescale()
		e.refit()
	}
	return res
}

// rescale sets each metric's scale to the range it has shown so far: unit
// free, and unlike a deviation not shrunk by a metric that is flat most of
// the time. A metric constant so far gets a token scale; its first move is
// then ClipZ ranges, enough to stand out and too little to swamp the rest.
func (e *Entity) rescale() {
	n := e.n
	widest := 0.0
	for j := range n {
		widest = max(widest, e.hi[j]-e.lo[j])
	}
	for j := range n {
		e.scale[j] = max(e.hi[j]-e.lo[j], 1e-9*widest, 1e-12)
	}
}

// refit sets the basis to the leading eigenvectors of the covariance of
// the standardised metrics.
func (e *Entity) refit() {
	n := e.n
	m := e.eig.a
	for i := range n {
		for j := i; j < n; j++ {
			c := e.cov[i*n+j] / (e.scale[i] * e.scale[j])
			m[i*n+j], m[j*n+i] = c, c
		}
	}
	vals, order := e.eig.solve(n)
	var total float64
	for _, v := range vals {
		total += max(v, 0)
	}
	k, acc := 0, 0.0
	for k < min(e.cfg.Components, n-1) && acc < e.cfg.Variance*total {
		acc += max(vals[k], 0)
		k++
	}
	e.k = k
	for c := range k {
		for j := range n {
			e.basis[c*n+j] = e.eig.v[j*n+order[c]]
		}
	}
}

// eigenScratch holds the work arrays of a symmetric eigen-decomposition.
type eigenScratch struct {
	a, v, vals []float64
	order      []int
}

func newEigenScratch(n int) eigenScratch {
	return eigenScratch{a: make([]float64, n*n), v: make([]float64, n*n), vals: make([]float64, n), order: make([]int, n)}
}

// solve diagonalises the symmetric matrix in s.a by cyclic Jacobi
// rotations; it returns the eigenvalues in decreasing order, and s.v holds
// the eigenvectors as columns, column order[c] the c-th.
func (s *eigenScratch) solve(n int) (vals []float64, order []int) {
	a, v := s.a, s.v
	for i := range v {
		v[i] = 0
	}
	for i := range n {
		v[i*n+i] = 1
	}
	for sweep := 0; sweep < 30; sweep++ {
		var off, diag float64
		for i := range n {
			diag += a[i*n+i] * a[i*n+i]
			for j := i + 1; j < n; j++ {
				off += a[i*n+j] * a[i*n+j]
			}
		}
		if off <= 1e-22*diag || off == 0 {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				sn := t * c
				for k := range n {
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p] = c*akp - sn*akq
					a[k*n+q] = sn*akp + c*akq
				}
				for k := range n {
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k] = c*apk - sn*aqk
					a[q*n+k] = sn*apk + c*aqk
				}
				for k := range n {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p] = c*vkp - sn*vkq
					v[k*n+q] = sn*vkp + c*vkq
				}
			}
		}
	}
	for i := range n {
		s.order[i] = i
	}
	slices.SortFunc(s.order, func(x, y int) int {
		switch ax, ay := a[x*n+x], a[y*n+y]; {
		case ax > ay:
			return -1
		case ax < ay:
			return 1
		}
		return 0
	})
	for c, i := range s.order {
		s.vals[c] = a[i*n+i]
	}
	return s.vals, s.order
}
