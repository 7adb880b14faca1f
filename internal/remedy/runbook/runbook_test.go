package runbook

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func incident(id int64, causes ...signal.Cause) *signal.Incident {
	in := &signal.Incident{ID: id, Status: signal.IncidentOpen, Title: "trouble", Causes: causes}
	for _, c := range causes {
		in.Entities = append(in.Entities, c.Entity)
	}
	return in
}

func mustParse(t testing.TB, src string) *Runbook {
	t.Helper()
	rb, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

const minimal = "name: a\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n"

func TestParseErrors(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		_, err := Parse("a.yaml", []byte(src))
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", src, want)
			return
		}
		if got := err.Error(); got != strings.Join(want, "\n") {
			t.Errorf("Parse(%q):\n got: %s\nwant: %s", src, got, strings.Join(want, "\n"))
		}
		var re *Error
		if !errors.As(err, &re) || re.File != "a.yaml" {
			t.Errorf("Parse(%q): error %T is not a *Error for a.yaml", src, err)
		}
	}
	// Bad YAML.
	f("name: x\n  when: true\n", "a.yaml:2: invalid YAML: mapping values are not allowed in this context")
	f("name: x\nwhen: [\n", "a.yaml:2: invalid YAML: did not find expected node content")
	f("", "a.yaml:1: empty file: a runbook needs at least name, when and one step")
	f("- a\n", "a.yaml:1: a runbook must be a mapping (name:, when:, actions:, ...), not a list")
	f(minimal+"---\nname: b\n", "a.yaml:6: a second YAML document: put one runbook per file")
	f(minimal+"name: b\n", `a.yaml:6: runbook: "name" is given twice (first at line 1)`)
	f(minimal+"colour: red\n", `a.yaml:6: unknown field "colour" (want name, description, when, priority, mode, target, env, diagnostics, actions, on_failure, verify)`)
	// Unknown step kind, two kinds, no kind.
	f("name: a\nwhen: true\nactions:\n  - name: s\n    shell: ls\n",
		`a.yaml:5: actions[0]: unknown step kind or field "shell" (want name, timeout and one of exec, http, collect, signal, kubectl)`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n    kubectl: {verb: rollout-undo}\n",
		"a.yaml:6: actions[0] has two kinds, exec and kubectl; split it into two steps")
	f("name: a\nwhen: true\ndiagnostics:\n  - name: s\n",
		"a.yaml:4: diagnostics[0]: no step kind (want one of exec, http, collect, signal, kubectl)")
	f("name: a\nwhen: true\nactions:\n  - name: s\n    exec: systemctl restart x\n",
		`a.yaml:5: actions[0].exec must be a list of arguments like ["systemctl", "restart", "{{ .Target }}"], not the value "systemctl restart x" (no shell is used)`)
	// Missing names.
	f("when: true\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:1: name is required")
	f("name: a\nwhen: true\nactions:\n  - exec: [ls]\n", "a.yaml:4: actions[0]: name is required")
	f("name: a b\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n", `a.yaml:1: name "a b" must be letters, digits, '-', '_' or '.', at most 128 of them`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n  - name: s\n    exec: [ls]\n", `a.yaml:6: step name "s" is already used at line 4`)
	f("name: a\nwhen: true\n", "a.yaml:1: no steps: give diagnostics or actions")
	// Bad when.
	f("name: a\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:1: when is required (write `when: true` to match every incident)")
	f("name: a\nwhen: cause.kindd == 'x'\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:2: when: cause has no field kindd (column 7)")
	f("name: a\nwhen: cause.score\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:2: when: expected bool, but got float64")
	f("name: a\nwhen: cause.kind == 1\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:2: when: invalid operation: == (mismatched types string and int) (column 12)")
	f("name: a\nwhen: |\n  cause.kind == \"x\" &&\n  cause.scor > 1\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:4: when: cause has no field scor (column 7)")
	// Bad templates.
	f("name: a\nwhen: true\nactions:\n  - name: s\n    exec: [ls, '{{ .Cause.Entiy }}']\n",
		"a.yaml:5: actions[0].exec[1]: bad template: <.Cause.Entiy>: can't evaluate field Entiy in type signal.Cause")
	f("name: a\nwhen: true\ntarget: '{{ .Target '\nactions:\n  - name: s\n    exec: [ls]\n", "a.yaml:3: target: bad template: unclosed action")
	f("name: a\nwhen: true\nactions:\n  - name: s\n    http:\n      url: |\n        http://x/\n        {{ nope }}\n",
		`a.yaml:8: actions[0].http.url: bad template: function "nope" not defined`)
	// Bad mode and other values.
	f("name: a\nwhen: true\nmode: yolo\nactions:\n  - name: s\n    exec: [ls]\n", `a.yaml:3: mode "yolo" is not one of dry-run, suggest, approve, auto`)
	f("name: a\nwhen: true\npriority: high\nactions:\n  - name: s\n    exec: [ls]\n", `a.yaml:3: priority "high" is not a whole number`)
	// Bad durations.
	f("name: a\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n    timeout: 5 minutes\n", `a.yaml:6: actions[0].timeout "5 minutes" is not a positive duration like 30s, 5m or 1h`)
	f(minimal+"verify: {within: -1m}\n", `a.yaml:6: verify.within "-1m" is not a positive duration like 30s, 5m or 1h`)
	f("name: a\nwhen: true\ndiagnostics:\n  - name: s\n    collect: {metrics: 15}\n", `a.yaml:5: diagnostics[0].collect.metrics "15" is not a positive duration like 30s, 5m or 1h`,
		"a.yaml:5: diagnostics[0].collect gathers nothing; give logs, traces, metrics or events")
	// Kind-specific checks.
	f("name: a\nwhen: true\nactions:\n  - name: s\n    http: {url: 'ftp://x/'}\n", `a.yaml:5: actions[0].http.url "ftp://x/" is not an absolute http or https URL`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    http: {method: BREW, url: 'http://x/'}\n", `a.yaml:5: actions[0].http.method "BREW" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    signal: {process: x, pid: 3, signal: TERM}\n", "a.yaml:5: actions[0].signal needs exactly one of process, pid and pidfile")
	f("name: a\nwhen: true\nactions:\n  - name: s\n    signal: {pid: 3, signal: SIGNOPE}\n", `a.yaml:5: actions[0].signal.signal "NOPE" is not one of HUP, INT, QUIT, KILL, USR1, USR2, TERM, STOP, CONT`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    kubectl: {verb: delete}\n", `a.yaml:5: actions[0].kubectl.verb "delete" is not one of rollout-restart, rollout-undo`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    http: {url: 'http://x/', timeout: 5s}\n    timeout: 9s\n", "a.yaml:6: actions[0]: timeout 9s differs from http.timeout 5s; give one")
}

func TestParseAllKinds(t *testing.T) {
	data, err := os.ReadFile("testdata/all-kinds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("testdata/all-kinds.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Mode != Approve || rb.Priority != 5 || rb.Verify.Within != 3*time.Minute || rb.Line != 2 {
		t.Errorf("runbook = %v, verify %v", rb, rb.Verify)
	}
	var got []string
	for _, s := range rb.Steps() {
		got = append(got, string(s.Kind)+"/"+s.Name+"/"+s.Timeout.String())
	}
	want := []string{"collect/recent/0s", "http/health/5s", "signal/reload/30s", "signal/kill-pid/30s", "exec/restart/45s", "kubectl/undo/30s"}
	if !slices.Equal(got, want) {
		t.Errorf("steps = %q, want %q", got, want)
	}
	if h := rb.Diagnostics[1].HTTP; h.Method != "POST" || h.Headers["X-Seer"] != "incident" {
		t.Errorf("http = %+v", h)
	}
	if s := rb.Actions[0].Signal; s.Signal != "HUP" || s.Process != "{{ .Target }}" {
		t.Errorf("signal = %+v", s)
	}
	if k := rb.Actions[3].Kubectl; k.Verb != "rollout-undo" || k.Deployment != "{{ .Target }}" || k.Namespace != "shop" {
		t.Errorf("kubectl = %+v", k)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "name: alpha\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n")
	write("b.yaml", "name: beta\nwhen: true\nmode: sideways\nactions:\n  - name: s\n    exec: [ls]\n")
	write("c.yml", "name: gamma\nwhen: cause.kind == 'x'\ndiagnostics:\n  - name: s\n    collect: {logs: 1}\n")
	write("notes.txt", "not a runbook")
	rbs, err := LoadDir(dir)
	var names []string
	for _, rb := range rbs {
		names = append(names, rb.Name)
	}
	if !slices.Equal(names, []string{"alpha", "gamma"}) {
		t.Errorf("loaded %q, want alpha and gamma", names)
	}
	want := filepath.Join(dir, "b.yaml") + `:3: mode "sideways" is not one of dry-run, suggest, approve, auto`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}

	write("d.yaml", "name: alpha\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n")
	errs := Check(dir, filepath.Join(dir, "c.yml"), filepath.Join(dir, "missing.yaml"))
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, strings.TrimPrefix(e.Error(), dir+string(filepath.Separator)))
	}
	wantMsgs := []string{
		"stat " + filepath.Join(dir, "missing.yaml") + ": no such file or directory",
		`b.yaml:3: mode "sideways" is not one of dry-run, suggest, approve, auto`,
		`d.yaml:1: runbook "alpha" is already defined at ` + filepath.Join(dir, "a.yaml") + ":1",
		`c.yml:1: runbook "gamma" is already defined at ` + filepath.Join(dir, "c.yml") + ":1",
	}
	if !slices.Equal(msgs, wantMsgs) {
		t.Errorf("Check:\n got %q\nwant %q", msgs, wantMsgs)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil {
		t.Error("LoadDir of a missing directory: no error")
	}
}

func TestMatch(t *testing.T) {
	rbs := []*Runbook{
		mustParse(t, "name: any\nwhen: true\npriority: -1\ndiagnostics:\n  - name: s\n    collect: {logs: 1}\n"),
		mustParse(t, "name: errs\nwhen: cause.kind == 'errors'\nactions:\n  - name: s\n    exec: [ls]\n"),
		mustParse(t, "name: errs-strong\nwhen: cause.kind == 'errors' && cause.score >= 0.5\npriority: 5\nactions:\n  - name: s\n    exec: [ls]\n"),
		mustParse(t, "name: b-tie\nwhen: cause.kind == 'latency'\npriority: 3\nactions:\n  - name: s\n    exec: [ls]\n"),
		mustParse(t, "name: a-tie\nwhen: cause.kind == 'latency'\npriority: 3\nactions:\n  - name: s\n    exec: [ls]\n"),
		mustParse(t, "name: shop\nwhen: incident.labels['team'] == 'shop' && 'change' in kinds\npriority: 9\nactions:\n  - name: s\n    exec: [ls]\n"),
	}
	f := func(in *signal.Incident, want string) {
		t.Helper()
		rb, ok := Match(rbs, in)
		got := ""
		if ok {
			got = rb.Name
		}
		if got != want {
			t.Errorf("Match(%+v) = %q, want %q", in.Causes, got, want)
		}
	}
	f(incident(1, signal.Cause{Entity: "a", Kind: "errors", Score: 0.9}), "errs-strong")
	f(incident(1, signal.Cause{Entity: "a", Kind: "errors", Score: 0.2}), "errs")
	f(incident(1, signal.Cause{Entity: "a", Kind: "latency", Score: 0.2}), "a-tie")
	f(incident(1, signal.Cause{Entity: "a", Kind: "disk"}), "any")
	f(incident(1), "any")
	// A template that fails only on some incidents loads, and fails to render.
	rb := mustParse(t, "name: second\nwhen: true\ntarget: '{{ index .Incident.Entities 1 }}'\nactions:\n  - name: s\n    exec: [ls]\n")
	if _, err := rb.Render(incident(1, signal.Cause{Entity: "a"})); err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("Render: err = %v, want index out of range", err)
	}
	in := incident(1, signal.Cause{Entity: "a", Kind: "errors", Score: 0.9}, signal.Cause{Entity: "b", Kind: "change"})
	f(in, "errs-strong")
	in.Labels = map[string]string{"team": "shop"}
	f(in, "shop")
	if _, ok := Match(rbs[1:2], incident(1)); ok {
		t.Error("Match with no fitting runbook: ok")
	}
	if _, ok := Match(rbs, nil); ok {
		t.Error("Match(nil incident): ok")
	}
}

func TestRender(t *testing.T) {
	t.Setenv("SEER_TEST_TOKEN", "hunter2")
	data, err := os.ReadFile("testdata/all-kinds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse("all-kinds.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	in := incident(7, signal.Cause{Entity: "catalog", Kind: "errors", Score: 0.9}, signal.Cause{Entity: "cart", Kind: "latency"})
	pl, err := rb.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Target != "catalog" || pl.TargetAudit != "catalog" || pl.IncidentID != 7 || pl.Mode != Approve || pl.Runbook != "all-kinds" {
		t.Errorf("plan = %+v", pl)
	}
	wantAudit := []string{
		"collect: logs 50, metrics 15m, traces 5, events 1h of catalog",
		`http: POST https://health.example:8443/check/catalog?id=7 -H 'Authorization: Bearer ***' -H 'X-Seer: incident' -d '{"cause": "errors"}'`,
		"signal: HUP to process catalog",
		"signal: TERM to pid 4242",
		"exec: systemctl restart catalog.service '--message=fix it'",
		"kubectl: rollout undo deployment/catalog --namespace shop",
	}
	if got := pl.Audit(); !slices.Equal(got, wantAudit) {
		t.Errorf("audit:\n got %q\nwant %q", got, wantAudit)
	}
	if got := pl.Actions[2].Exec; !slices.Equal(got, []string{"systemctl", "restart", "catalog.service", "--message=fix it"}) {
		t.Errorf("exec = %q", got)
	}
	// The secret reaches the executor's form and nothing else.
	if got := pl.Diagnostics[1].HTTP.Headers["Authorization"]; got != "Bearer hunter2" {
		t.Errorf("real header = %q", got)
	}
	for _, s := range pl.Steps() {
		if strings.Contains(s.Audit, "hunter2") || strings.Contains(s.String(), "hunter2") || strings.Contains(s.LogValue().String(), "hunter2") {
			t.Errorf("secret in the audit form of %s", s.Name)
		}
	}
	// The template on a runbook is untouched by rendering.
	if rb.Actions[2].Exec[2] != "{{ .Target }}.service" {
		t.Errorf("runbook changed by Render: %q", rb.Actions[2].Exec)
	}

	os.Unsetenv("SEER_TEST_TOKEN")
	if _, err := rb.Render(in); err == nil || !strings.Contains(err.Error(), "SEER_TEST_TOKEN is not set") {
		t.Errorf("Render with the secret unset: err = %v", err)
	}
	if _, err := rb.Render(incident(8)); err == nil || !strings.Contains(err.Error(), "target") {
		t.Errorf("Render without causes: err = %v, want an empty target", err)
	}
}

func TestDefaults(t *testing.T) {
	if _, err := defaults(); err != nil {
		t.Fatalf("defaults do not load: %v", err)
	}
	rbs := Defaults()
	if len(rbs) != 8 {
		t.Errorf("%d defaults, want 8", len(rbs))
	}
	f := func(kind, want string) {
		t.Helper()
		in := incident(1, signal.Cause{Entity: "catalog", Kind: kind, Score: 0.8})
		rb, ok := Match(rbs, in)
		if !ok || rb.Name != want {
			t.Errorf("kind %q matched %v, want %s", kind, rb, want)
			return
		}
		if rb.Mode != DryRun {
			t.Errorf("default %s is %s, want dry-run", rb.Name, rb.Mode)
		}
		pl, err := rb.Render(in)
		if err != nil {
			t.Errorf("render %s: %v", rb.Name, err)
			return
		}
		if pl.Target != "catalog" || len(pl.Steps()) == 0 {
			t.Errorf("plan %s: target %q, %d steps", rb.Name, pl.Target, len(pl.Steps()))
		}
		if want != "diagnose" && len(pl.Actions) == 0 {
			t.Errorf("plan %s has no actions", rb.Name)
		}
	}
	f("latency", "relieve-slow-service")
	f("errors", "restart-failing-service")
	f("unavailable", "restart-unavailable-service")
	f("saturation", "scale-out-saturated-service")
	f("memory", "restart-leaking-service")
	f("disk", "free-disk-space")
	f("change", "roll-back-change")
	f("something-else", "diagnose")
	f("", "diagnose")
	if rb, ok := Match(rbs, incident(1)); ok {
		t.Errorf("an incident without causes matched %s", rb.Name)
	}
	// The example from the issue renders as written there.
	in := incident(1, signal.Cause{Entity: "catalog", Kind: "unavailable", Score: 0.9})
	rb, _ := Match(rbs, in)
	pl, _ := rb.Render(in)
	if got := pl.Audit()[1]; got != "exec: systemctl restart catalog" {
		t.Errorf("restart step = %q", got)
	}
}

func TestFormatDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	f(15*time.Minute, "15m")
	f(2*time.Hour, "2h")
	f(90*time.Minute, "1h30m")
	f(90*time.Second, "1m30s")
	f(5*time.Second, "5s")
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("defaults/*.yaml")
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("name: a\nwhen: true\nactions: [&s {name: s, exec: [ls]}, *s]\n"))
	in := incident(3, signal.Cause{Entity: "catalog", Kind: "errors", Score: 0.9})
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("f.yaml", data)
		if err != nil {
			for _, e := range flatten(err) {
				if !strings.HasPrefix(e.Error(), "f.yaml") {
					t.Errorf("error without the file name: %v", e)
				}
			}
			return
		}
		if rb.Name == "" || rb.when == nil || len(rb.Steps()) == 0 {
			t.Errorf("accepted an incomplete runbook: %v", rb)
		}
		_, _ = Match([]*Runbook{rb}, in)
		_, _ = rb.Render(in)
	})
}

func BenchmarkMatch(b *testing.B) {
	rbs := Defaults()
	in := incident(1, signal.Cause{Entity: "catalog", Kind: "change", Score: 0.8}, signal.Cause{Entity: "cart", Kind: "latency"})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Match(rbs, in); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkRender(b *testing.B) {
	b.Setenv("SEER_TEST_TOKEN", "x")
	data, err := os.ReadFile("testdata/all-kinds.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rb := mustParse(b, string(data))
	in := incident(1, signal.Cause{Entity: "catalog", Kind: "errors", Score: 0.8})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rb.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/all-kinds.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("all-kinds.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
