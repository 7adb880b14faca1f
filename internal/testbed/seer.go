package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/seerops/seer/internal/loopback"
	"github.com/seerops/seer/internal/testbed/shop"
)

// seerYAML is seer's configuration for the testbed: what an operator
// would write to point seer at this shop. Detection and ranking keep
// their defaults; the operational settings say how often to scrape and
// probe, how soon a quiet incident is resolved (faults come a minute
// apart) and how the remediation policy paces runs on one target.
const seerYAML = `data_dir: {{.Dir}}/seer/data
http_addr: {{.HTTP}}
otlp:
  grpc_addr: ""
  http_addr: {{.OTLP}}
runbook_dir: {{.Dir}}/runbooks
topology:
  services: [{{.Services}}]
  edges:
{{- range .Edges}}
    - {caller: {{index . 0}}, callee: {{index . 1}}}
{{- end}}
scrape:
  interval: {{.Scrape}}
  timeout: {{.Timeout}}
  targets:
{{- range .Names}}
    - {url: "http://{{index $.Addrs .}}/metrics", entity: {{.}}}
{{- end}}
probe:
  interval: {{.Probe}}
  timeout: {{.ProbeTimeout}}
  targets:
{{- range .Names}}
    - {url: "http://{{index $.Addrs .}}/healthz", entity: {{.}}}
{{- end}}
tail:
  files:
{{- range .Names}}
    - {path: "{{$.Dir}}/{{.}}/{{.}}.log", entity: {{.}}, format: "<Timestamp> <Level> <Content>"}
{{- end}}
infer:
  correlate:
    resolve_after: 30s
remedy:
  stable: 10s
  settle: 15s
  cooldown: 1m
  max_actions: 30
{{.Extra}}`

// runbookYAML is the testbed's runbooks: its operators' restart, roll
// back and free-disk procedures, run automatically, acting on the
// testbed's real processes through its control API.
const runbookYAML = `name: testbed-restart
description: Restart a shop service that stopped answering, ran out of memory or is saturated.
when: cause.entity in [{{.Quoted}}] && cause.kind in ["unavailable", "memory", "saturation"]
priority: 100
mode: auto
target: "{{"{{"}} .Cause.Entity {{"}}"}}"
actions:
  - name: restart
    exec: [{{printf "%q" .Bin}}, "testbed", "ctl", "--dir", {{printf "%q" .Dir}}, "restart", "{{"{{"}} .Target {{"}}"}}"]
    timeout: 40s
verify: {within: 60s}
---
name: testbed-free-disk
description: Free a shop service's data directory of what filled it.
when: cause.entity in [{{.Quoted}}] && cause.kind == "disk"
priority: 100
mode: auto
target: "{{"{{"}} .Cause.Entity {{"}}"}}"
actions:
  - name: free-disk
    exec: [{{printf "%q" .Bin}}, "testbed", "ctl", "--dir", {{printf "%q" .Dir}}, "free-disk", "{{"{{"}} .Target {{"}}"}}"]
    timeout: 30s
verify: {within: 60s}
---
name: testbed-roll-back
description: Roll a shop service back to its last good build and config.
when: cause.entity in [{{.Quoted}}] && cause.kind == "change"
priority: 100
mode: auto
target: "{{"{{"}} .Cause.Entity {{"}}"}}"
actions:
  - name: rollback
    exec: [{{printf "%q" .Bin}}, "testbed", "ctl", "--dir", {{printf "%q" .Dir}}, "rollback", "{{"{{"}} .Target {{"}}"}}"]
    timeout: 40s
verify: {within: 60s}
`

func (t *Testbed) startSeer(ctx context.Context) error {
	var err error
	if t.seerAddr, err = loopback.FreeAddr(); err != nil {
		return err
	}
	if t.otlpAddr, err = loopback.FreeAddr(); err != nil {
		return err
	}
	var names, quoted []string
	var edges [][2]string
	for _, s := range shop.Specs() {
		names = append(names, s.Name)
		quoted = append(quoted, fmt.Sprintf("%q", s.Name))
		for _, c := range s.Calls {
			edges = append(edges, [2]string{s.Name, c})
		}
	}
	data := map[string]any{
		"Dir": t.cfg.Dir, "HTTP": t.seerAddr, "OTLP": t.otlpAddr, "Services": strings.Join(names, ", "),
		"Edges": edges, "Names": names, "Addrs": t.addrs, "Scrape": t.cfg.Scrape.String(),
		"Timeout": (t.cfg.Scrape * 8 / 10).String(),
		"Probe":   t.cfg.Probe.String(), "ProbeTimeout": (t.cfg.Probe * 8 / 10).String(), "Extra": t.cfg.SeerYAML,
		"Quoted": strings.Join(quoted, ", "), "Bin": t.cfg.Bin,
	}
	if err := os.MkdirAll(filepath.Join(t.cfg.Dir, "runbooks"), 0o755); err != nil {
		return err
	}
	for i, rb := range strings.Split(runbookYAML, "---\n") {
		if err := render(filepath.Join(t.cfg.Dir, "runbooks", fmt.Sprintf("testbed-%d.yaml", i)), rb, data); err != nil {
			return err
		}
	}
	out, err := t.out("seer")
	if err != nil {
		return err
	}
	conf := filepath.Join(t.cfg.Dir, "seer", "seer.yaml")
	if err := render(conf, seerYAML, data); err != nil {
		return err
	}
	t.seer, err = t.spawn.spawn("seer", t.cfg.Bin, []string{"run", "--config", conf, "--log-level", "warn"}, t.env, out)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, t.SeerURL()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("seer did not come up: %w (see %s)", err, filepath.Join(t.cfg.Dir, "seer", "stderr.log"))
	}
	return nil
}

func render(path, tmpl string, data any) error {
	tp, err := template.New(filepath.Base(path)).Parse(tmpl)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tp.Execute(f, data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
