package remedy

import (
	"context"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// TestExecEnvironment: a step's program sees PATH, the runbook's declared
// variables and the SEER_* values, and none of seer's other variables.
func TestExecEnvironment(t *testing.T) {
	t.Setenv("SEER_TEST_OTHER_SECRET", "hunter33")
	t.Setenv("SEER_TEST_DECLARED", "visible")
	rb := parse(t, `name: env
when: "true"
mode: auto
env: [SEER_TEST_DECLARED]
diagnostics:
  - name: show
    exec: ["env"]
`)
	fx := newFixture(t, fast(), rb)
	in := fx.incident("svc", "errors")
	fx.handle(in)
	fx.m.Wait()
	r := fx.record(in.ID, "show")
	if r.Status != StatusSucceeded {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"PATH=", "SEER_TEST_DECLARED=visible", "SEER_TARGET=svc", "SEER_INCIDENT_ID="} {
		if !strings.Contains(r.Output, want) {
			t.Errorf("the program's environment lacks %s:\n%s", want, r.Output)
		}
	}
	if strings.Contains(r.Output, "hunter33") || strings.Contains(r.Output, "HOME=") {
		t.Errorf("seer's own environment reached the program:\n%s", r.Output)
	}
}

// A runbook is nominated only where the environment offers what its steps
// act through: on a host without Kubernetes a kubectl restart is not, the
// next runbook that fits is; with Kubernetes it is.
func TestEnvironmentGatesNomination(t *testing.T) {
	kube := parse(t, `name: k-restart
when: cause.kind == "latency"
priority: 10
mode: dry-run
actions:
  - name: restart
    kubectl: {verb: rollout-restart, deployment: "{{ .Target }}"}
`)
	look := parse(t, `name: look
when: cause.kind == "latency"
priority: 1
mode: dry-run
diagnostics:
  - name: traces
    collect: {traces: 5}
`)
	if got := kube.Needs(); len(got) != 1 || got[0] != "kubernetes" {
		t.Fatalf("needs %v", got)
	}
	for _, c := range []struct {
		envs []string
		want string
	}{{[]string{"systemd"}, "look"}, {[]string{"kubernetes"}, "k-restart"}} {
		cfg := fast()
		cfg.Environments = c.envs
		fx := newFixture(t, cfg, kube, look)
		nom := fx.handle(fx.incident("node", "latency"))
		if nom == nil || nom.Name != c.want {
			t.Errorf("environments %v: nominated %+v, want %s", c.envs, nom, c.want)
		}
		fx.m.Wait()
	}
}

// When the only runbook that fits cannot run here, the incident says which
// it is and what it would need, and nothing is planned or run: approving
// it finds nothing pending.
func TestUnavailableNominationSaysWhatItNeeds(t *testing.T) {
	kube := parse(t, `name: k-restart
when: cause.kind == "latency"
mode: approve
actions:
  - name: restart
    kubectl: {verb: rollout-restart, deployment: "{{ .Target }}"}
`)
	cfg := fast()
	cfg.Environments = []string{"systemd"}
	fx := newFixture(t, cfg, kube)
	in := fx.incident("node", "latency")
	nom := fx.handle(in)
	if nom == nil || nom.Name != "k-restart" || nom.Mode != signal.ModeUnavailable || len(nom.Needs) != 1 || nom.Needs[0] != "kubernetes" {
		t.Fatalf("nominated %+v, want k-restart unavailable, needing kubernetes", nom)
	}
	if _, err := fx.m.Approve(context.Background(), in.ID, "op"); err == nil {
		t.Fatal("an unavailable runbook was approved")
	}
	fx.m.Wait()
	if recs := fx.runs(in.ID); len(recs) != 0 {
		t.Fatalf("an unavailable runbook left records: %+v", recs)
	}
}
