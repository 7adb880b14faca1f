package runbook

import (
	"net/url"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// The injection target of issue 17.
const attack = "127.0.0.1:9999?$(touch${IFS}pwned)"

// parseWants parses src as r.yaml: it must load when want is empty, and
// fail with an error containing want otherwise.
func parseWants(t *testing.T, src, want string) {
	t.Helper()
	_, err := Parse("r.yaml", []byte(src))
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v; want it accepted", src, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: %v; want an error containing %q", src, err, want)
	}
}

func TestShellWithTemplateRefused(t *testing.T) {
	f := func(exec string, want string) {
		t.Helper()
		parseWants(t, "name: r\nwhen: \"true\"\nactions:\n  - name: s\n    exec: "+exec+"\n", want)
	}
	f(`["/bin/sh", "-c", "echo restarting {{ .Target }}"]`, "r.yaml:5: actions[0].exec[2] is shell code with a template in it")
	f(`["bash", "-lc", "systemctl restart {{ .Cause.Entity }}"]`, "exec[2] is shell code")
	f(`["sudo", "-n", "sh", "-e", "-c", "restart {{ .Target }}"]`, "exec[5] is shell code")
	f(`["bash", "-o", "pipefail", "-c", "x {{ .Target }}"]`, "exec[4] is shell code")
	f(`["python3", "-c", "print('{{ .Incident.Title }}')"]`, "exec[2] is shell code")
	f(`["perl", "-e", "system('{{ .Target }}')"]`, "exec[2] is shell code")
	f(`["ssh", "ops@gw", "systemctl restart {{ .Target }}"]`, "exec[2] is a remote command for ssh")
	// The value as an argument of a fixed script is safe, and so are
	// scripts without templates and programs that are not shells.
	f(`["sh", "-c", "systemctl restart \"$1\"", "sh", "{{ .Target }}"]`, "")
	f(`["sh", "-c", "echo $SEER_TARGET"]`, "")
	f(`["sh", "/opt/restart.sh", "{{ .Target }}"]`, "")
	f(`["systemctl", "restart", "{{ .Target }}"]`, "")
}

func TestURLHostMustBeLiteral(t *testing.T) {
	f := func(url string, want string) {
		t.Helper()
		parseWants(t, "name: r\nwhen: \"true\"\ndiagnostics:\n  - name: s\n    http: {url: \""+url+"\"}\n", want)
	}
	const literal = "write the scheme and host literally"
	f("http://{{ .Target }}:8080/healthz", "r.yaml:5: diagnostics[0].http.url")
	f("http://{{ .Target }}:8080/healthz", literal)
	f("https://{{ .Target }}.example/x", literal)
	f("https://ops.example{{ .Target }}/x", literal)
	f("https://{{ env \\\"HOST\\\" }}/x", literal)
	f("https://u:{{ env \\\"PW\\\" }}@ops.example/x", literal)
	f("{{ .Target }}", literal)
	f("https://ops.example/restart/{{ .Target }}?incident={{ .Incident.ID }}", "")
	f("https://ops.example:8443?t={{ .Target }}", "")
}

// TestURLValuesEscaped: outside strings stay one path segment or query
// value, whatever they hold.
func TestURLValuesEscaped(t *testing.T) {
	rb := mustParse(t, `name: r
when: "true"
diagnostics:
  - name: s
    http: {url: "https://ops.example/check/{{ .Target }}?title={{ .Incident.Title }}&id={{ .Incident.ID }}"}
`)
	in := incident(3, signal.Cause{Entity: "cart/cart-1", Kind: "errors", Score: 1})
	in.Title = "a b?c=1&d#e/../f"
	pl, err := rb.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://ops.example/check/cart%2Fcart-1?title=a%20b%3Fc%3D1%26d%23e%2F..%2Ff&id=3"
	if got := pl.Diagnostics[0].HTTP.URL; got != want {
		t.Errorf("url\n got %s\nwant %s", got, want)
	}
	// Whatever the incident holds, the request (and its secrets) goes to
	// the host the author wrote.
	for _, title := range []string{"x@evil.example/", "//evil.example", "?@evil.example#"} {
		in.Title = title
		pl, err := rb.Render(in)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := url.Parse(pl.Diagnostics[0].HTTP.URL); err != nil || u.Host != "ops.example" {
			t.Errorf("title %q: url %s goes to %v", title, pl.Diagnostics[0].HTTP.URL, u)
		}
	}
}

// TestRenderRefusesBadTarget: an entity that slipped past ingest (stored
// before the check, say) never becomes a target.
func TestRenderRefusesBadTarget(t *testing.T) {
	rb := mustParse(t, "name: r\nwhen: \"true\"\nactions:\n  - name: s\n    exec: [\"systemctl\", \"restart\", \"{{ .Target }}\"]\n")
	_, err := rb.Render(incident(1, signal.Cause{Entity: attack, Kind: "errors", Score: 1}))
	if err == nil || !strings.Contains(err.Error(), "target of incident 1 is refused") {
		t.Errorf("Render with target %q: %v; want refused", attack, err)
	}
}
