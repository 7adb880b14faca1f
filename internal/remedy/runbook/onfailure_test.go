package runbook

import (
	"slices"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

func TestOnFailurePIDFileAndSecrets(t *testing.T) {
	t.Setenv("SEER_RB_TOKEN", "tok-12345")
	rb := mustParse(t, `name: full
when: "true"
mode: auto
actions:
  - name: restart
    exec: ["restart", "{{ .Target }}", "--token={{ env \"SEER_RB_TOKEN\" }}"]
  - name: reload
    signal: {pidfile: "/run/{{ .Target }}.pid", signal: HUP}
on_failure:
  - name: page
    http: {method: POST, url: "https://pager.example/{{ .Target }}", body: "restart of {{ .Target }} failed"}
`)
	if !slices.Equal(rb.Secrets, []string{"SEER_RB_TOKEN"}) || len(rb.OnFailure) != 1 {
		t.Fatalf("secrets %q, on_failure %d", rb.Secrets, len(rb.OnFailure))
	}
	pl, err := rb.Render(incident(1, signal.Cause{Entity: "db", Kind: "errors"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := pl.Actions[1].Signal.PIDFile; got != "/run/db.pid" || pl.Actions[1].Audit != "signal: HUP to the pid in /run/db.pid" {
		t.Errorf("pidfile %q, audit %q", got, pl.Actions[1].Audit)
	}
	if got := pl.OnFailure[0].HTTP.URL; got != "https://pager.example/db" {
		t.Errorf("on_failure url %q", got)
	}
	if got := pl.Actions[0].Exec[2]; got != "--token=tok-12345" || strings.Contains(pl.Actions[0].Audit, "tok-12345") {
		t.Errorf("exec %q, audit %q", got, pl.Actions[0].Audit)
	}
	if got := pl.Mask("echo --token=tok-12345 done"); got != "echo --token=*** done" {
		t.Errorf("Mask = %q", got)
	}
	f := func(src string, want string) {
		t.Helper()
		_, err := Parse("a.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse: %v, want %q", err, want)
		}
	}
	f("name: a\nwhen: true\ndiagnostics:\n  - name: d\n    exec: [ls]\non_failure:\n  - name: p\n    exec: [ls]\n", "a.yaml:1: on_failure without actions")
	f(minimal+"on_failure:\n  - name: s\n    exec: [ls]\n", `a.yaml:7: step name "s" is already used at line 4`)
	f("name: a\nwhen: true\nactions:\n  - name: s\n    signal: {pid: 3, pidfile: /x, signal: TERM}\n", "needs exactly one of process, pid and pidfile")
}
