package runbook

import (
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/seerops/seer/internal/signal"
)

// Mode is how far seer may go on its own with a runbook.
type Mode string

// The modes, from the most to the least cautious.
const (
	// DryRun records what would be done and does nothing.
	DryRun Mode = "dry-run"
	// Suggest shows the steps to an operator, who runs them by hand.
	Suggest Mode = "suggest"
	// Approve runs the steps once an operator approves them.
	Approve Mode = "approve"
	// Auto runs the steps as soon as the runbook matches.
	Auto Mode = "auto"
)

// Valid reports whether m is one of the known modes.
func (m Mode) Valid() bool {
	switch m {
	case DryRun, Suggest, Approve, Auto:
		return true
	}
	return false
}

// Kind says what a step does, and so which of Step's fields describe it.
type Kind string

// The step kinds.
const (
	// KindExec runs a program with an argument vector (no shell).
	KindExec Kind = "exec"
	// KindHTTP sends one HTTP request.
	KindHTTP Kind = "http"
	// KindCollect gathers seer's own data (logs, metrics, traces, events)
	// about an entity.
	KindCollect Kind = "collect"
	// KindSignal sends a Unix signal to a process.
	KindSignal Kind = "signal"
	// KindKubectl runs a Kubernetes rollout verb on a deployment.
	KindKubectl Kind = "kubectl"
)

var kinds = []Kind{KindExec, KindHTTP, KindCollect, KindSignal, KindKubectl}

// Limits that keep a hostile or broken file from costing much to load.
const (
	maxFileSize = 1 << 20
	maxSteps    = 64
	maxArgs     = 256
	maxHeaders  = 64
)

// DefaultTimeout bounds a step that does not give its own timeout.
const DefaultTimeout = 30 * time.Second

// DefaultVerify is how long symptoms may take to clear after the actions
// when the runbook does not say.
const DefaultVerify = 5 * time.Minute

// Runbook is a parsed, validated runbook. It is immutable once loaded and
// safe for concurrent use.
type Runbook struct {
	Name        string
	Description string
	// When is the source of the expression that decides whether the
	// runbook fits an incident.
	When string
	// Priority orders matching runbooks: the higher wins.
	Priority int
	Mode     Mode
	// Target is the template of the entity the steps act on.
	Target      string
	Diagnostics []Step
	Actions     []Step
	// OnFailure runs when an action fails or verification does: a
	// rollback, or a page to a human.
	OnFailure []Step
	Verify    Verify
	// Secrets names the environment variables the templates read.
	Secrets []string
	// Env names the environment variables of seer's that the runbook's
	// programs are given; they get PATH and the SEER_* values besides,
	// and nothing else of seer's environment.
	Env []string
	// File and Line say where the runbook was defined.
	File string
	Line int

	when   *vm.Program
	target *pair
}

// Verify says how the outcome of the actions is checked.
type Verify struct {
	// Within is how long the incident's symptoms may take to clear.
	Within time.Duration
}

// Step is one diagnostic or action. Kind says which of the kind-specific
// fields is set. In a Runbook the string fields hold templates; in a Plan
// they hold the rendered values, secrets included, and Audit holds the
// form with secrets masked that may be shown, logged and stored.
type Step struct {
	Name    string
	Kind    Kind
	Timeout time.Duration
	// Exec is the argument vector of a KindExec step.
	Exec    []string
	HTTP    *HTTP
	Collect *Collect
	Signal  *Signal
	Kubectl *Kubectl
	// Audit is the one-line form with secrets masked; set in a Plan only.
	Audit string
	// Line is where the step is defined in its file.
	Line int

	tmpl map[string]*pair // compiled templates by field: "exec[0]", "url", "header:NAME", ...
}

// String is the audit form, so that printing a step never shows a secret.
func (s Step) String() string {
	if s.Audit != "" {
		return s.Audit
	}
	return string(s.Kind) + ": " + s.Name
}

// LogValue keeps secrets out of structured logs.
func (s Step) LogValue() slog.Value { return slog.StringValue(s.String()) }

// HTTP is the request of a KindHTTP step.
type HTTP struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    string
}

// Collect says which of seer's own data a KindCollect step gathers.
type Collect struct {
	// Entity defaults to the runbook's target.
	Entity string
	// Logs is how many recent log records.
	Logs int
	// Traces is how many example traces.
	Traces int
	// Metrics is the window of metric history.
	Metrics time.Duration
	// Events is the window of change events and alarms.
	Events time.Duration
}

// Signal is the process and signal of a KindSignal step; exactly one of
// Process, PID and PIDFile is set.
type Signal struct {
	// Process is the name of the processes to signal (every one of them).
	Process string
	PID     int
	// PIDFile is a file holding the pid, as daemons write them.
	PIDFile string
	// Signal is the name without the SIG prefix: TERM, HUP, KILL, ...
	Signal string
}

// Kubectl is the rollout verb of a KindKubectl step.
type Kubectl struct {
	// Verb is rollout-restart or rollout-undo.
	Verb       string
	Deployment string
	// Namespace is empty for kubectl's current namespace.
	Namespace string
}

// The signals a step may send.
var signals = []string{"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "STOP", "CONT"}

// The kubectl verbs a step may use.
var kubectlVerbs = []string{"rollout-restart", "rollout-undo"}

// Error is a problem in a runbook file, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error is the `file:line: reason` form.
func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Match picks the runbook for the incident: of those whose `when` holds,
// the one of highest priority, ties going to the first name in order.
func Match(rbs []*Runbook, in *signal.Incident) (*Runbook, bool) {
	if in == nil {
		return nil, false
	}
	env := newEnv(in)
	var best *Runbook
	for _, rb := range rbs {
		if rb == nil || rb.when == nil {
			continue
		}
		if best != nil && (rb.Priority < best.Priority || rb.Priority == best.Priority && rb.Name >= best.Name) {
			continue
		}
		if rb.Matches(env) {
			best = rb
		}
	}
	return best, best != nil
}

// Matches reports whether the runbook's `when` holds for the environment;
// an expression that fails at run time (a nil map, say) does not hold.
func (rb *Runbook) Matches(env Env) bool {
	if rb.when == nil {
		return false
	}
	out, err := vm.Run(rb.when, env)
	if err != nil {
		return false
	}
	ok, _ := out.(bool)
	return ok
}

// Needs lists the environments the runbook's steps act through, sorted:
// "kubernetes" for a kubectl step or program, "systemd" for systemctl and
// journalctl. A runbook is nominated only where they are all at hand.
func (rb *Runbook) Needs() []string {
	var out []string
	add := func(e string) {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	for _, s := range rb.Steps() {
		switch {
		case s.Kind == KindKubectl:
			add("kubernetes")
		case s.Kind == KindExec && len(s.Exec) > 0:
			switch path.Base(s.Exec[0]) {
			case "kubectl", "helm":
				add("kubernetes")
			case "systemctl", "journalctl":
				add("systemd")
			case "docker":
				add("docker")
			}
		}
	}
	slices.Sort(out)
	return out
}

// Steps is every step in order: the diagnostics, then the actions.
func (rb *Runbook) Steps() []Step {
	return slices.Concat(rb.Diagnostics, rb.Actions)
}

// String names the runbook and where it is defined, for logs.
func (rb *Runbook) String() string {
	return fmt.Sprintf("%s (%s:%d, priority %d, %s)", rb.Name, rb.File, rb.Line, rb.Priority, rb.Mode)
}

// shellQuote renders an argument so that the audit line reads as the
// command an operator would type.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || strings.ContainsRune(`'"\$&|;<>()`+"`", r)
	}) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
