package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parse reads one runbook from the YAML in data. file names the source in
// errors; every problem found is reported, each as an *Error
// (`file:line: reason`), joined.
func Parse(file string, data []byte) (*Runbook, error) {
	p := &parser{file: file}
	rb := p.parse(data)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return rb, nil
}

type parser struct {
	file string
	errs []error
	// secrets are the environment variables the templates read.
	secrets map[string]bool
}

func (p *parser) errf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErr turns the decoder's "yaml: line N: msg" into file:N: msg.
func (p *parser) yamlErr(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		p.errf(n, "invalid YAML: %s", m[2])
		return
	}
	p.errf(0, "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

func (p *parser) parse(data []byte) *Runbook {
	if len(data) > maxFileSize {
		p.errf(0, "file is %d bytes, more than the %d a runbook may have", len(data), maxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errf(1, "empty file: a runbook needs at least name, when and one step")
		} else {
			p.yamlErr(err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.errf(next.Line, "a second YAML document: put one runbook per file")
	} else if !errors.Is(err, io.EOF) {
		p.yamlErr(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		p.errf(root.Line, "a runbook must be a mapping (name:, when:, actions:, ...), not %s", describe(root))
		return nil
	}
	rb := &Runbook{File: p.file, Line: root.Line, Mode: DryRun, Target: "{{ .Cause.Entity }}"}
	var (
		haveName, haveWhen bool
		targetLine         = root.Line
		targetBlock        bool
		whenNode           *yaml.Node
	)
	p.fields(root, "runbook", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			rb.Name, haveName = p.str(v, "name"), true
		case "description":
			rb.Description = p.str(v, "description")
		case "when":
			rb.When, haveWhen, whenNode = p.str(v, "when"), true, v
		case "priority":
			rb.Priority = p.int(v, "priority")
		case "mode":
			m := Mode(p.str(v, "mode"))
			if !m.Valid() {
				p.errf(v.Line, "mode %q is not one of dry-run, suggest, approve, auto", m)
			} else {
				rb.Mode = m
			}
		case "target":
			rb.Target, targetLine, targetBlock = p.str(v, "target"), v.Line, isBlock(v)
			if strings.TrimSpace(rb.Target) == "" {
				p.errf(v.Line, "target is empty; leave it out to act on the top cause's entity")
			}
		case "diagnostics":
			rb.Diagnostics = p.steps(v, "diagnostics")
		case "actions":
			rb.Actions = p.steps(v, "actions")
		case "on_failure":
			rb.OnFailure = p.steps(v, "on_failure")
		case "env":
			rb.Env = p.envNames(v)
		case "verify":
			p.fields(v, "verify", func(key string, k, v *yaml.Node) {
				switch key {
				case "within":
					rb.Verify.Within = p.duration(v, "verify.within")
				default:
					p.errf(k.Line, "unknown field %q in verify (want within)", key)
				}
			})
		default:
			p.errf(k.Line, "unknown field %q (want name, description, when, priority, mode, target, env, diagnostics, actions, on_failure, verify)", key)
		}
	})
	switch {
	case !haveName || rb.Name == "":
		p.errf(root.Line, "name is required")
	case !validName(rb.Name):
		p.errf(root.Line, "name %q must be letters, digits, '-', '_' or '.', at most 128 of them", rb.Name)
	}
	if !haveWhen || strings.TrimSpace(rb.When) == "" {
		p.errf(root.Line, "when is required (write `when: true` to match every incident)")
	} else {
		prog, line, err := compileWhen(rb.When, whenNode.Line, isBlock(whenNode))
		if err != nil {
			p.errf(line, "when: %v", err)
		}
		rb.when = prog
	}
	if len(rb.Diagnostics)+len(rb.Actions) == 0 {
		p.errf(root.Line, "no steps: give diagnostics or actions")
	}
	if len(rb.Actions) > 0 && rb.Verify.Within == 0 {
		rb.Verify.Within = DefaultVerify
	}
	if len(rb.OnFailure) > 0 && len(rb.Actions) == 0 {
		p.errf(root.Line, "on_failure without actions: it runs when the actions fail or do not fix the incident")
	}
	names := map[string]int{}
	for _, s := range slices.Concat(rb.Steps(), rb.OnFailure) {
		if s.Name == "" {
			continue
		}
		if prev, ok := names[s.Name]; ok {
			p.errf(s.Line, "step name %q is already used at line %d", s.Name, prev)
		}
		names[s.Name] = s.Line
	}
	if t, err := p.compile("target", rb.Target, targetLine, targetBlock, false); err == nil {
		rb.target = t
	}
	rb.Secrets = slices.Sorted(maps.Keys(p.secrets))
	return rb
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// envNames reads the env list: the variables of seer's environment that
// the runbook's programs are given, beyond PATH.
func (p *parser) envNames(n *yaml.Node) []string {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, "env must be a list of environment variable names, not %s", describe(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		name := p.str(c, "env")
		if !envName.MatchString(name) {
			p.errf(c.Line, "env: %q is not an environment variable name", name)
			continue
		}
		out = append(out, name)
	}
	return out
}

func validName(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func (p *parser) steps(n *yaml.Node, what string) []Step {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, "%s must be a list of steps, not %s", what, describe(n))
		return nil
	}
	if len(n.Content) > maxSteps {
		p.errf(n.Line, "%s has %d steps, more than %d", what, len(n.Content), maxSteps)
		return nil
	}
	out := make([]Step, 0, len(n.Content))
	for i, c := range n.Content {
		// A step with errors is kept so that later checks (names, "no
		// steps") do not pile misleading errors on the real one.
		out = append(out, p.step(c, fmt.Sprintf("%s[%d]", what, i)))
	}
	return out
}

func (p *parser) step(n *yaml.Node, where string) Step {
	n = resolve(n)
	s := Step{Line: n.Line, tmpl: map[string]*pair{}}
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "%s must be a mapping (name:, and one of %s), not %s", where, kindList(), describe(n))
		return s
	}
	var kindNode *yaml.Node
	unknown := false
	var httpTimeout time.Duration
	var timeoutLine int
	p.fields(n, where, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			s.Name = p.str(v, where+".name")
			return
		case "timeout":
			s.Timeout, timeoutLine = p.duration(v, where+".timeout"), v.Line
			return
		}
		if !slices.Contains(kinds, Kind(key)) {
			p.errf(k.Line, "%s: unknown step kind or field %q (want name, timeout and one of %s)", where, key, kindList())
			unknown = true
			return
		}
		if kindNode != nil {
			p.errf(k.Line, "%s has two kinds, %s and %s; split it into two steps", where, s.Kind, key)
			return
		}
		kindNode, s.Kind = k, Kind(key)
		switch s.Kind {
		case KindExec:
			s.Exec = p.exec(&s, v, where)
		case KindHTTP:
			s.HTTP, httpTimeout = p.http(&s, v, where)
		case KindCollect:
			s.Collect = p.collect(&s, v, where)
		case KindSignal:
			s.Signal = p.signal(&s, v, where)
		case KindKubectl:
			s.Kubectl = p.kubectl(&s, v, where)
		}
	})
	if s.Name == "" {
		p.errf(n.Line, "%s: name is required", where)
	} else if !validName(s.Name) {
		p.errf(n.Line, "%s: name %q must be letters, digits, '-', '_' or '.', at most 128 of them", where, s.Name)
	}
	if kindNode == nil && !unknown {
		p.errf(n.Line, "%s: no step kind (want one of %s)", where, kindList())
	}
	if httpTimeout > 0 {
		if s.Timeout > 0 && s.Timeout != httpTimeout {
			p.errf(timeoutLine, "%s: timeout %v differs from http.timeout %v; give one", where, s.Timeout, httpTimeout)
		}
		s.Timeout = httpTimeout
	}
	if s.Timeout == 0 && s.Kind != KindCollect {
		s.Timeout = DefaultTimeout
	}
	return s
}

func kindList() string {
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}

func (p *parser) exec(s *Step, v *yaml.Node, where string) []string {
	v = resolve(v)
	if v.Kind != yaml.SequenceNode {
		p.errf(v.Line, "%s.exec must be a list of arguments like [\"systemctl\", \"restart\", \"{{ .Target }}\"], not %s (no shell is used)", where, describe(v))
		return nil
	}
	if len(v.Content) == 0 {
		p.errf(v.Line, "%s.exec is empty; give the program and its arguments", where)
		return nil
	}
	if len(v.Content) > maxArgs {
		p.errf(v.Line, "%s.exec has %d arguments, more than %d", where, len(v.Content), maxArgs)
		return nil
	}
	argv := make([]string, len(v.Content))
	for i, a := range v.Content {
		key := fmt.Sprintf("exec[%d]", i)
		argv[i] = p.str(a, where+"."+key)
		p.template(s, where, key, a, argv[i])
	}
	if strings.TrimSpace(argv[0]) == "" {
		p.errf(v.Content[0].Line, "%s.exec: the program name is empty", where)
	}
	lines := make([]int, len(v.Content))
	for i, a := range v.Content {
		lines[i] = a.Line
	}
	p.checkExec(argv, lines, where)
	return argv
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (p *parser) http(s *Step, v *yaml.Node, where string) (*HTTP, time.Duration) {
	h := &HTTP{Method: "GET"}
	var timeout time.Duration
	haveURL := false
	p.fields(v, where+".http", func(key string, k, v *yaml.Node) {
		switch key {
		case "method":
			h.Method = strings.ToUpper(p.str(v, where+".http.method"))
			if !slices.Contains(methods, h.Method) {
				p.errf(v.Line, "%s.http.method %q is not one of %s", where, h.Method, strings.Join(methods, ", "))
			}
		case "url":
			h.URL, haveURL = p.str(v, where+".http.url"), true
			if !p.checkURL(h.URL, v.Line, where) {
				return
			}
			if !strings.Contains(h.URL, "{{") {
				if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errf(v.Line, "%s.http.url %q is not an absolute http or https URL", where, h.URL)
				}
			}
			p.template(s, where+".http", "url", v, h.URL)
		case "body":
			h.Body = p.str(v, where+".http.body")
			p.template(s, where+".http", "body", v, h.Body)
		case "headers":
			h.Headers = map[string]string{}
			p.fields(v, where+".http.headers", func(name string, k, v *yaml.Node) {
				if len(h.Headers) >= maxHeaders {
					p.errf(k.Line, "%s.http.headers has more than %d headers", where, maxHeaders)
					return
				}
				if !validHeader(name) {
					p.errf(k.Line, "%s.http.headers: %q is not a valid header name", where, name)
				}
				h.Headers[name] = p.str(v, where+".http.headers."+name)
				p.template(s, where+".http", "header:"+name, v, h.Headers[name])
			})
		case "timeout":
			timeout = p.duration(v, where+".http.timeout")
		default:
			p.errf(k.Line, "unknown field %q in %s.http (want method, url, headers, body, timeout)", key, where)
		}
	})
	if !haveURL || h.URL == "" {
		p.errf(v.Line, "%s.http.url is required", where)
	}
	return h, timeout
}

func validHeader(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

func (p *parser) collect(s *Step, v *yaml.Node, where string) *Collect {
	c := &Collect{}
	p.fields(v, where+".collect", func(key string, k, v *yaml.Node) {
		switch key {
		case "entity":
			c.Entity = p.str(v, where+".collect.entity")
			p.template(s, where+".collect", "entity", v, c.Entity)
		case "logs":
			c.Logs = p.count(v, where+".collect.logs")
		case "traces":
			c.Traces = p.count(v, where+".collect.traces")
		case "metrics":
			c.Metrics = p.duration(v, where+".collect.metrics")
		case "events":
			c.Events = p.duration(v, where+".collect.events")
		default:
			p.errf(k.Line, "unknown field %q in %s.collect (want entity, logs, traces, metrics, events)", key, where)
		}
	})
	if c.Logs == 0 && c.Traces == 0 && c.Metrics == 0 && c.Events == 0 {
		p.errf(v.Line, "%s.collect gathers nothing; give logs, traces, metrics or events", where)
	}
	return c
}

func (p *parser) signal(s *Step, v *yaml.Node, where string) *Signal {
	sg := &Signal{}
	p.fields(v, where+".signal", func(key string, k, v *yaml.Node) {
		switch key {
		case "process":
			sg.Process = p.str(v, where+".signal.process")
			p.template(s, where+".signal", "process", v, sg.Process)
		case "pidfile":
			sg.PIDFile = p.str(v, where+".signal.pidfile")
			p.template(s, where+".signal", "pidfile", v, sg.PIDFile)
		case "pid":
			sg.PID = p.int(v, where+".signal.pid")
			if sg.PID <= 0 {
				p.errf(v.Line, "%s.signal.pid must be positive", where)
			}
		case "signal":
			name := strings.TrimPrefix(strings.ToUpper(p.str(v, where+".signal.signal")), "SIG")
			if !slices.Contains(signals, name) {
				p.errf(v.Line, "%s.signal.signal %q is not one of %s", where, name, strings.Join(signals, ", "))
			}
			sg.Signal = name
		default:
			p.errf(k.Line, "unknown field %q in %s.signal (want process, pid or pidfile, and signal)", key, where)
		}
	})
	n := 0
	for _, set := range []bool{sg.Process != "", sg.PID != 0, sg.PIDFile != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		p.errf(v.Line, "%s.signal needs exactly one of process, pid and pidfile", where)
	}
	if sg.Signal == "" {
		p.errf(v.Line, "%s.signal.signal is required (TERM, HUP, ...)", where)
	}
	return sg
}

func (p *parser) kubectl(s *Step, v *yaml.Node, where string) *Kubectl {
	kc := &Kubectl{Deployment: "{{ .Target }}"}
	p.fields(v, where+".kubectl", func(key string, k, v *yaml.Node) {
		switch key {
		case "verb":
			kc.Verb = p.str(v, where+".kubectl.verb")
			if !slices.Contains(kubectlVerbs, kc.Verb) {
				p.errf(v.Line, "%s.kubectl.verb %q is not one of %s", where, kc.Verb, strings.Join(kubectlVerbs, ", "))
			}
		case "deployment":
			kc.Deployment = p.str(v, where+".kubectl.deployment")
			if kc.Deployment == "" {
				p.errf(v.Line, "%s.kubectl.deployment is empty; leave it out to use the target", where)
			}
			p.template(s, where+".kubectl", "deployment", v, kc.Deployment)
		case "namespace":
			kc.Namespace = p.str(v, where+".kubectl.namespace")
			p.template(s, where+".kubectl", "namespace", v, kc.Namespace)
		default:
			p.errf(k.Line, "unknown field %q in %s.kubectl (want verb, deployment, namespace)", key, where)
		}
	})
	if kc.Verb == "" {
		p.errf(v.Line, "%s.kubectl.verb is required (%s)", where, strings.Join(kubectlVerbs, " or "))
	}
	if _, ok := s.tmpl["deployment"]; !ok {
		p.template(s, where+".kubectl", "deployment", v, kc.Deployment)
	}
	return kc
}

// template compiles a templated field of a step, reporting errors at the
// field's line.
func (p *parser) template(s *Step, where, key string, n *yaml.Node, src string) {
	if t, err := p.compile(where+"."+key, src, n.Line, isBlock(n), key == "url"); err == nil && t != nil {
		s.tmpl[key] = t
	}
}

// fields walks a mapping, rejecting duplicate keys and non-scalar keys.
func (p *parser) fields(n *yaml.Node, what string, f func(key string, k, v *yaml.Node)) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "%s must be a mapping, not %s", what, describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errf(k.Line, "%s: keys must be plain names, not %s", what, describe(k))
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			p.errf(k.Line, "%s: %q is given twice (first at line %d)", what, k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		f(k.Value, k, v)
	}
}

func (p *parser) str(n *yaml.Node, what string) string {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errf(n.Line, "%s must be a single value, not %s", what, describe(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (p *parser) int(n *yaml.Node, what string) int {
	s := p.str(n, what)
	i, err := strconv.Atoi(s)
	if err != nil {
		p.errf(n.Line, "%s %q is not a whole number", what, s)
	}
	return i
}

func (p *parser) count(n *yaml.Node, what string) int {
	i := p.int(n, what)
	if i < 0 {
		p.errf(n.Line, "%s must not be negative", what)
		return 0
	}
	return i
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	s := p.str(n, what)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errf(n.Line, "%s %q is not a positive duration like 30s, 5m or 1h", what, s)
		return 0
	}
	return d
}

// resolve follows aliases, which are bounded because the schema is shallow.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isBlock(n *yaml.Node) bool {
	n = resolve(n)
	return n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "an empty document"
}

// pair is one template compiled twice: with env reading the process
// environment, and with env masking every secret as ***.
type pair struct {
	real, masked *template.Template
}
