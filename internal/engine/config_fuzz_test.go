package engine

import (
	"testing"
)

// FuzzParseConfig feeds arbitrary YAML to the configuration reader: an
// error or a configuration that validates, never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"", "tick: 200ms\n", "remedy: {stable: 1s, cooldown: 5m}\n", "memory: {limit_bytes: 1073741824, spike_bytes: 1}\n",
		"http_addr: 127.0.0.1:7070\nbus: {partitions: 2}\n", "colour: blue\n", "tick: -1s\n", "[1, 2]", "{", "tick: &a [*a]\n",
		"infer: {correlate: {resolve_after: 1m}}\n", "auth: {mode: on}\n", "checkpoint: 0s\n",
		"tls: {cert_file: /nonexistent, key_file: /nonexistent, min_version: TLS13}\n", "otlp: {tls: {client_auth_type: X}}\n",
		"notify: {webhooks: [{url: http://127.0.0.1:9, bearer_token: x, tls_config: {insecure_skip_verify: true}}]}\n",
		"notify: {alertmanager: {url: http://127.0.0.1:9, oauth2: {client_id: a, token_url: http://127.0.0.1:9}, proxy_url: http://127.0.0.1:1}}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but it does not validate: %v", data, err)
		}
	})
}
