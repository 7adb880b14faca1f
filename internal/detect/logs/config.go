package logs

import (
	"errors"
	"fmt"
	"time"
)

// MinerConfig tunes the template miner. The zero value of a field means its
// default.
type MinerConfig struct {
	// SimThreshold is the share of a line's tokens that must equal a
	// template's for the line to join it, in (0,1]. Masked tokens count as
	// equal to a template's wildcard. The default 0.75 still lets a
	// four-token line with one unmasked variable word (a user name) join
	// its template.
	SimThreshold float64 `yaml:"sim_threshold"`
	// Depth is how many leading tokens key the prefix tree below the
	// token-count level; a token that is not a plain word (a variable, a
	// name with dots or dashes) takes the wildcard branch. The default 1
	// scores as well as 2 and better than 3 on the Loghub samples, and a
	// variable second word cannot split its template.
	Depth int `yaml:"depth"`
	// MaxChildren caps the children of a tree node; further distinct tokens
	// share the wildcard child, which keeps a variable leading token from
	// growing the tree without bound.
	MaxChildren int `yaml:"max_children"`
	// MaxClusters caps the templates kept; the least recently matched one is
	// evicted to make room.
	MaxClusters int `yaml:"max_clusters"`
	// MaxTokens caps the tokens of a line; the rest of a longer line becomes
	// one variable token.
	MaxTokens int `yaml:"max_tokens"`
	// KeepDigitTokens turns off masking of tokens that merely contain a
	// digit (identifiers like blk_123 or node-7) and keeps only the typed
	// scanners (numbers, addresses, times, ...).
	KeepDigitTokens bool `yaml:"keep_digit_tokens"`
	// Without turns heuristics off, so that an evaluation can show what
	// each is worth on logs that did not motivate it. It is not saved in
	// a snapshot.
	Without Rule `yaml:"-"`
}

// Rule is one heuristic of the masker or the miner, a bit of a set.
type Rule uint32

// The heuristics that can be turned off. Each is about the shape of tokens,
// never about the words of a particular system.
const (
	// RuleBool masks true and false, in any case.
	RuleBool Rule = 1 << iota
	// RuleKeyValue masks the typed value of key=value, key:value,
	// call(value), name{value} and name[value] and keeps the key.
	RuleKeyValue
	// RuleUnderscoreID masks an identifier with a digit after an
	// underscore (job_1445_0020) whole.
	RuleUnderscoreID
	// RuleHostPort masks host/address and host:port.
	RuleHostPort
	// RuleWordNumber masks the number of a word and a number (node-7,
	// core.3) and keeps the word.
	RuleWordNumber
	// RuleSoft keeps the other words with a digit (ssh2) as they are until
	// a second value shows at their place; without it they are masked.
	RuleSoft
	// RuleSplit gives a line that has another word than its template at
	// one place a template of its own, until the place shows several
	// values; the value of a key never splits.
	RuleSplit
	// RuleCovers counts a template's bare wildcard over a line's plain
	// word as neither like nor unlike, as Drain does; without it, as like.
	RuleCovers
	// RuleSegments masks the parts of a compound token (a=1,b=2,
	// 7##0##12, Object@1f2e) between separators on their own.
	RuleSegments
	// RuleUnit keeps a unit of size or time soft, and never splits a
	// template at one after a variable (877.0 B, 6.0 KB).
	RuleUnit

	// ruleDigitIDs masks any token with a digit; KeepDigitTokens clears it.
	ruleDigitIDs Rule = 1 << 31
)

// Rules are the heuristics Without can turn off, with their names.
var Rules = []struct {
	Rule Rule
	Name string
}{
	{RuleBool, "bool"}, {RuleKeyValue, "key-value"},
	{RuleUnderscoreID, "underscore-id"}, {RuleHostPort, "host-port"}, {RuleWordNumber, "word-number"},
	{RuleSoft, "soft"}, {RuleSplit, "split"}, {RuleCovers, "covers"}, {RuleSegments, "segments"}, {RuleUnit, "unit"},
}

// rules is the set of heuristics in force.
func (c MinerConfig) rules() Rule {
	r := ^c.Without
	if c.KeepDigitTokens {
		r &^= ruleDigitIDs
	}
	return r
}

// Defaults of MinerConfig.
const (
	DefaultSimThreshold = 0.75
	DefaultDepth        = 1
	DefaultMaxChildren  = 100
	DefaultMaxClusters  = 10000
	DefaultMaxTokens    = 256
)

// withDefaults fills the zero fields.
func (c MinerConfig) withDefaults() MinerConfig {
	if c.SimThreshold == 0 {
		c.SimThreshold = DefaultSimThreshold
	}
	if c.Depth == 0 {
		c.Depth = DefaultDepth
	}
	if c.MaxChildren == 0 {
		c.MaxChildren = DefaultMaxChildren
	}
	if c.MaxClusters == 0 {
		c.MaxClusters = DefaultMaxClusters
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	return c
}

// Validate reports every field out of range; zero fields take defaults and
// are valid.
func (c MinerConfig) Validate() error {
	var errs []error
	if c.SimThreshold < 0 || c.SimThreshold > 1 || c.SimThreshold != c.SimThreshold {
		errs = append(errs, fmt.Errorf("sim_threshold %v: want a share in (0,1]", c.SimThreshold))
	}
	if c.Depth < 0 || c.Depth > 16 {
		errs = append(errs, fmt.Errorf("depth %d: want 1 to 16", c.Depth))
	}
	if c.MaxChildren < 0 {
		errs = append(errs, fmt.Errorf("max_children %d: want a positive count", c.MaxChildren))
	}
	if c.MaxClusters < 0 {
		errs = append(errs, fmt.Errorf("max_clusters %d: want a positive count", c.MaxClusters))
	}
	if c.MaxTokens < 0 || c.MaxTokens == 1 || c.MaxTokens > 1<<16 {
		errs = append(errs, fmt.Errorf("max_tokens %d: want 2 to 65536", c.MaxTokens))
	}
	return errors.Join(errs...)
}

// Config tunes the log pattern stage. The zero value of a field means its
// default.
type Config struct {
	Miner MinerConfig `yaml:"miner"`
	// WarmUp is how long after an entity's first record its templates are
	// learned silently before new ones are reported.
	WarmUp time.Duration `yaml:"warm_up"`
	// Window is the length of the counting window for bursts.
	Window time.Duration `yaml:"window"`
	// Alpha is the EWMA weight of each closed window in the baseline.
	Alpha float64 `yaml:"alpha"`
	// PValue is the Poisson tail probability below which a window's count
	// is a burst.
	PValue float64 `yaml:"p_value"`
	// MinErrors is the least error+fatal records in a window that can make
	// an error burst, so that one or two stray errors never do.
	MinErrors int `yaml:"min_errors"`
	// MinBurst is the least records of one template in a window that can
	// make a template burst.
	MinBurst int `yaml:"min_burst"`
	// MinRatio is how many times its expected count a window must reach to
	// be a burst, besides the tail test.
	MinRatio float64 `yaml:"min_ratio"`
	// Repeat is how long a pattern must be absent before it can fire again.
	Repeat time.Duration `yaml:"repeat"`
	// IdleTTL drops the state of an entity or template not seen for this long.
	IdleTTL time.Duration `yaml:"idle_ttl"`
	// MaxTemplatesPerEntity caps the per-template state of one entity.
	MaxTemplatesPerEntity int `yaml:"max_templates_per_entity"`
	// RareShare is the share of an entity's records below which a known
	// template is rare when it appears again after warm-up.
	RareShare float64 `yaml:"rare_share"`
	// RareMax is the most earlier records a template may have had in the
	// entity and still be rare; past it, the template is a known visitor.
	RareMax int `yaml:"rare_max"`
	// SilenceMin is the least baseline count per window that makes a
	// template steady, so that its absence can be silence.
	SilenceMin float64 `yaml:"silence_min"`
}

// Defaults of Config.
const (
	DefaultWarmUp                = 5 * time.Minute
	DefaultWindow                = 30 * time.Second
	DefaultAlpha                 = 0.1
	DefaultPValue                = 1e-6
	DefaultMinErrors             = 5
	DefaultMinBurst              = 20
	DefaultMinRatio              = 3
	DefaultRepeat                = 2 * time.Minute
	DefaultIdleTTL               = time.Hour
	DefaultMaxTemplatesPerEntity = 2000
	DefaultRareShare             = 0.001
	DefaultRareMax               = 3
	DefaultSilenceMin            = 5
)

func (c Config) withDefaults() Config {
	c.Miner = c.Miner.withDefaults()
	if c.WarmUp == 0 {
		c.WarmUp = DefaultWarmUp
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if c.PValue == 0 {
		c.PValue = DefaultPValue
	}
	if c.MinErrors == 0 {
		c.MinErrors = DefaultMinErrors
	}
	if c.MinBurst == 0 {
		c.MinBurst = DefaultMinBurst
	}
	if c.MinRatio == 0 {
		c.MinRatio = DefaultMinRatio
	}
	if c.Repeat == 0 {
		c.Repeat = DefaultRepeat
	}
	if c.IdleTTL == 0 {
		c.IdleTTL = DefaultIdleTTL
	}
	if c.MaxTemplatesPerEntity == 0 {
		c.MaxTemplatesPerEntity = DefaultMaxTemplatesPerEntity
	}
	if c.RareShare == 0 {
		c.RareShare = DefaultRareShare
	}
	if c.RareMax == 0 {
		c.RareMax = DefaultRareMax
	}
	if c.SilenceMin == 0 {
		c.SilenceMin = DefaultSilenceMin
	}
	return c
}

// Validate reports every field out of range; zero fields take defaults and
// are valid.
func (c Config) Validate() error {
	var errs []error
	if err := c.Miner.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("miner: %w", err))
	}
	if c.WarmUp < 0 {
		errs = append(errs, fmt.Errorf("warm_up %v: want a duration ≥ 0", c.WarmUp))
	}
	if c.Window < 0 || (c.Window > 0 && c.Window < time.Millisecond) {
		errs = append(errs, fmt.Errorf("window %v: want at least 1ms", c.Window))
	}
	if c.Alpha < 0 || c.Alpha > 1 || c.Alpha != c.Alpha {
		errs = append(errs, fmt.Errorf("alpha %v: want a weight in (0,1]", c.Alpha))
	}
	if c.PValue < 0 || c.PValue >= 1 || c.PValue != c.PValue {
		errs = append(errs, fmt.Errorf("p_value %v: want a probability in (0,1)", c.PValue))
	}
	if c.MinErrors < 0 {
		errs = append(errs, fmt.Errorf("min_errors %d: want a count ≥ 1", c.MinErrors))
	}
	if c.MinBurst < 0 {
		errs = append(errs, fmt.Errorf("min_burst %d: want a count ≥ 1", c.MinBurst))
	}
	if c.MinRatio < 0 || c.MinRatio != c.MinRatio {
		errs = append(errs, fmt.Errorf("min_ratio %v: want a ratio ≥ 1", c.MinRatio))
	}
	if c.Repeat < 0 {
		errs = append(errs, fmt.Errorf("repeat %v: want a duration ≥ 0", c.Repeat))
	}
	if c.IdleTTL < 0 {
		errs = append(errs, fmt.Errorf("idle_ttl %v: want a duration ≥ 0", c.IdleTTL))
	}
	if c.MaxTemplatesPerEntity < 0 {
		errs = append(errs, fmt.Errorf("max_templates_per_entity %d: want a count ≥ 1", c.MaxTemplatesPerEntity))
	}
	if c.RareShare < 0 || c.RareShare >= 1 || c.RareShare != c.RareShare {
		errs = append(errs, fmt.Errorf("rare_share %v: want a share in (0,1)", c.RareShare))
	}
	if c.RareMax < 0 {
		errs = append(errs, fmt.Errorf("rare_max %d: want a count ≥ 1", c.RareMax))
	}
	if c.SilenceMin < 0 || c.SilenceMin != c.SilenceMin {
		errs = append(errs, fmt.Errorf("silence_min %v: want a count per window > 0", c.SilenceMin))
	}
	return errors.Join(errs...)
}

// DefaultMinerConfig returns the miner configuration with every default
// filled in.
func DefaultMinerConfig() MinerConfig { return MinerConfig{}.withDefaults() }

// DefaultConfig returns the stage configuration with every default filled
// in.
func DefaultConfig() Config { return Config{}.withDefaults() }
