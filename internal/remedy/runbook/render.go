package runbook

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Mask is what a secret is shown as in the audit form of a step.
const Mask = "***"

// Plan is a runbook rendered for one incident: the concrete steps for its
// top cause. Steps carry real values (secrets included) for an executor and
// an Audit form for everything else.
type Plan struct {
	Runbook    string
	Mode       Mode
	IncidentID int64
	Cause      signal.Cause
	// Target is the rendered target; TargetAudit the same with secrets masked.
	Target      string
	TargetAudit string
	Diagnostics []Step
	Actions     []Step
	// OnFailure runs when an action fails or verification does.
	OnFailure []Step
	Verify    Verify
	// Env names the variables of seer's environment its programs get.
	Env []string
	// secrets are the values of the environment variables the templates
	// read, longest first, for Mask.
	secrets []string
}

// Mask replaces every secret the plan's templates read in s by Mask, so
// that a step's output can be stored and shown even when a command echoes
// its credentials.
func (p Plan) Mask(s string) string {
	for _, v := range p.secrets {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// Steps is every step in order: the diagnostics, then the actions.
func (p Plan) Steps() []Step { return slices.Concat(p.Diagnostics, p.Actions) }

// Audit is the audit form of every step, in order.
func (p Plan) Audit() []string {
	out := make([]string, 0, len(p.Diagnostics)+len(p.Actions))
	for _, s := range p.Steps() {
		out = append(out, s.Audit)
	}
	return out
}

// data is what a template sees.
type data struct {
	Cause    signal.Cause
	Incident signal.Incident
	Target   string
}

var (
	realFuncs = template.FuncMap{"env": func(name string) (string, error) {
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		return v, nil
	}, urlPart: escapeURLPart}
	maskFuncs = template.FuncMap{"env": func(string) string { return Mask }, urlPart: escapeURLPart}
)

// sample is the incident every template is tried on at load time, so that
// a misspelt field fails the load rather than the first real incident.
var sample = data{
	Cause:    signal.Cause{Entity: "example", Kind: "errors", Score: 1, Evidence: []string{"example"}},
	Incident: signal.Incident{ID: 1, Status: signal.IncidentOpen, Title: "example", Entities: []string{"example"}, Causes: []signal.Cause{{Entity: "example", Kind: "errors", Score: 1}}, Labels: map[string]string{}},
	Target:   "example",
}

// envRef finds the environment variables a template reads, so that their
// values can be scrubbed from what the steps print.
var envRef = regexp.MustCompile(`\benv\s+"([^"]+)"`)

var (
	tmplErr  = regexp.MustCompile(`^template: [^:]*:(\d+)(?::\d+)?: (.*)$`)
	tmplExec = regexp.MustCompile(`^executing "[^"]*" at (<.*)$`)
)

// compile parses a template twice (real and masked env) and tries it on the
// sample incident. A text without actions needs no template: nil, nil. The
// actions of a URL template are escaped.
func (p *parser) compile(name, src string, line int, block, url bool) (*pair, error) {
	if !strings.Contains(src, "{{") {
		return nil, nil
	}
	for _, m := range envRef.FindAllStringSubmatch(src, -1) {
		if p.secrets == nil {
			p.secrets = map[string]bool{}
		}
		p.secrets[m[1]] = true
	}
	report := func(err error) error {
		msg, l := err.Error(), line
		if m := tmplErr.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			if block {
				l += n
			} else {
				l += n - 1
			}
			msg = m[2]
			if m := tmplExec.FindStringSubmatch(msg); m != nil {
				msg = m[1]
			}
		}
		p.errf(l, "%s: bad template: %s", name, msg)
		return err
	}
	real, err := template.New(name).Option("missingkey=zero").Funcs(realFuncs).Parse(src)
	if err != nil {
		return nil, report(err)
	}
	masked, err := template.New(name).Option("missingkey=zero").Funcs(maskFuncs).Parse(src)
	if err != nil {
		return nil, report(err)
	}
	if url {
		for _, t := range []*template.Template{real, masked} {
			if err := escapeActions(t.Tree.Root); err != nil {
				p.errf(line, "%s: %v", name, err)
				return nil, err
			}
		}
	}
	// A function failing on the sample (index out of range) depends on the
	// incident, so only the template's shape is held against it here.
	if _, err := execute(masked, &sample); err != nil && !strings.Contains(err.Error(), "error calling ") {
		return nil, report(err)
	}
	return &pair{real: real, masked: masked}, nil
}

func execute(t *template.Template, d *data) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// renderer renders the fields of one plan in both forms.
type renderer struct {
	real, masked data
	err          error
}

// text renders src (or its template) and returns the real and masked forms.
func (r *renderer) text(t *pair, src string) (string, string) {
	if t == nil || r.err != nil {
		return src, src
	}
	real, err := execute(t.real, &r.real)
	if err != nil {
		r.err = err
		return "", ""
	}
	masked, err := execute(t.masked, &r.masked)
	if err != nil {
		r.err = err
		return "", ""
	}
	return real, masked
}

// Render fills in the runbook's templates for the incident's top cause.
// It fails when a template does (an unset env variable, say) or the target
// comes out empty.
func (rb *Runbook) Render(in *signal.Incident) (Plan, error) {
	if in == nil {
		return Plan{}, fmt.Errorf("runbook %s: no incident to render for", rb.Name)
	}
	r := &renderer{real: data{Cause: in.Top(), Incident: *in}}
	r.masked = r.real
	target, targetAudit := r.text(rb.target, rb.Target)
	if r.err != nil {
		return Plan{}, fmt.Errorf("runbook %s: rendering the target: %w", rb.Name, r.err)
	}
	if strings.TrimSpace(target) == "" {
		return Plan{}, fmt.Errorf("runbook %s: the target %q is empty for incident %d", rb.Name, rb.Target, in.ID)
	}
	// The target is an outside string however it was templated; it must
	// be a name an entity could have (ingest refuses others, but the store
	// may hold older ones).
	if err := signal.CheckEntity(target); err != nil {
		return Plan{}, fmt.Errorf("runbook %s: the target of incident %d is refused: %w", rb.Name, in.ID, err)
	}
	r.real.Target, r.masked.Target = target, targetAudit
	pl := Plan{
		Runbook: rb.Name, Mode: rb.Mode, IncidentID: in.ID, Cause: in.Top(),
		Target: target, TargetAudit: targetAudit, Verify: rb.Verify, Env: rb.Env,
	}
	var err error
	if pl.Diagnostics, err = r.steps(rb.Diagnostics); err != nil {
		return Plan{}, fmt.Errorf("runbook %s: %w", rb.Name, err)
	}
	if pl.Actions, err = r.steps(rb.Actions); err != nil {
		return Plan{}, fmt.Errorf("runbook %s: %w", rb.Name, err)
	}
	if pl.OnFailure, err = r.steps(rb.OnFailure); err != nil {
		return Plan{}, fmt.Errorf("runbook %s: %w", rb.Name, err)
	}
	for _, name := range rb.Secrets {
		// Short values would mask ordinary words; they are not secrets worth the name.
		if v := os.Getenv(name); len(v) >= 4 {
			pl.secrets = append(pl.secrets, v)
		}
	}
	slices.SortFunc(pl.secrets, func(a, b string) int { return len(b) - len(a) })
	return pl, nil
}

func (r *renderer) steps(in []Step) ([]Step, error) {
	out := make([]Step, len(in))
	for i, s := range in {
		out[i] = r.step(s)
		if r.err != nil {
			return nil, fmt.Errorf("rendering step %s: %w", s.Name, r.err)
		}
	}
	return out, nil
}

func (r *renderer) step(s Step) Step {
	out := Step{Name: s.Name, Kind: s.Kind, Timeout: s.Timeout, Line: s.Line}
	var b strings.Builder
	b.WriteString(string(s.Kind))
	b.WriteString(": ")
	switch s.Kind {
	case KindExec:
		out.Exec = make([]string, len(s.Exec))
		for i, a := range s.Exec {
			real, masked := r.text(s.tmpl["exec["+strconv.Itoa(i)+"]"], a)
			out.Exec[i] = real
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(shellQuote(masked))
		}
	case KindHTTP:
		h := *s.HTTP
		var url string
		h.URL, url = r.text(s.tmpl["url"], s.HTTP.URL)
		fmt.Fprintf(&b, "%s %s", h.Method, url)
		if len(s.HTTP.Headers) > 0 {
			h.Headers = make(map[string]string, len(s.HTTP.Headers))
			for _, k := range slices.Sorted(maps.Keys(s.HTTP.Headers)) {
				var v string
				h.Headers[k], v = r.text(s.tmpl["header:"+k], s.HTTP.Headers[k])
				fmt.Fprintf(&b, " -H %s", shellQuote(k+": "+v))
			}
		}
		if s.HTTP.Body != "" {
			var body string
			h.Body, body = r.text(s.tmpl["body"], s.HTTP.Body)
			fmt.Fprintf(&b, " -d %s", shellQuote(body))
		}
		out.HTTP = &h
	case KindCollect:
		c := *s.Collect
		entity, entityAudit := r.real.Target, r.masked.Target
		if c.Entity != "" {
			entity, entityAudit = r.text(s.tmpl["entity"], c.Entity)
		}
		c.Entity = entity
		var parts []string
		if c.Logs > 0 {
			parts = append(parts, "logs "+strconv.Itoa(c.Logs))
		}
		if c.Metrics > 0 {
			parts = append(parts, "metrics "+FormatDuration(c.Metrics))
		}
		if c.Traces > 0 {
			parts = append(parts, "traces "+strconv.Itoa(c.Traces))
		}
		if c.Events > 0 {
			parts = append(parts, "events "+FormatDuration(c.Events))
		}
		fmt.Fprintf(&b, "%s of %s", strings.Join(parts, ", "), entityAudit)
		out.Collect = &c
	case KindSignal:
		sg := *s.Signal
		switch {
		case sg.PID > 0:
			fmt.Fprintf(&b, "%s to pid %d", sg.Signal, sg.PID)
		case sg.PIDFile != "":
			var pf string
			sg.PIDFile, pf = r.text(s.tmpl["pidfile"], s.Signal.PIDFile)
			fmt.Fprintf(&b, "%s to the pid in %s", sg.Signal, shellQuote(pf))
		default:
			var proc string
			sg.Process, proc = r.text(s.tmpl["process"], s.Signal.Process)
			fmt.Fprintf(&b, "%s to process %s", sg.Signal, shellQuote(proc))
		}
		out.Signal = &sg
	case KindKubectl:
		kc := *s.Kubectl
		var dep, ns string
		kc.Deployment, dep = r.text(s.tmpl["deployment"], s.Kubectl.Deployment)
		kc.Namespace, ns = r.text(s.tmpl["namespace"], s.Kubectl.Namespace)
		verb, _ := strings.CutPrefix(kc.Verb, "rollout-")
		fmt.Fprintf(&b, "rollout %s deployment/%s", verb, shellQuote(dep))
		if ns != "" {
			fmt.Fprintf(&b, " --namespace %s", shellQuote(ns))
		}
		out.Kubectl = &kc
	}
	out.Audit = b.String()
	return out
}

// FormatDuration writes a duration the way runbooks do: 15m, 1h30m, 90s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
