package remedy

import (
	"strings"
	"testing"
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
