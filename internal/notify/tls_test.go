package notify

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.yaml.in/yaml/v3"

	"github.com/seerops/seer/internal/servertls/tlstest"
)

// tlsServer is an HTTPS server with a certificate of ca that records the
// Authorization header of each request.
func tlsServer(t *testing.T, ca *tlstest.CA) (*httptest.Server, func() []string) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// decode reads YAML as the engine does: unknown keys are errors.
func decode(t *testing.T, doc string, into any) error {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	return dec.Decode(into)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNotifiersOverTLSWithCredentials: a webhook and an Alertmanager that
// trust the server's CA through tls_config.ca_file reach it, and the
// server sees their credentials (a bearer token from a file; basic auth).
func TestNotifiersOverTLSWithCredentials(t *testing.T) {
	ca := tlstest.New(t)
	srv, seen := tlsServer(t, ca)
	tokenFile := writeFile(t, "token", "s3cret\n")

	var wh WebhookConfig
	if err := decode(t, "url: "+srv.URL+"/hook\ntls_config: {ca_file: "+ca.CAFile+"}\nbearer_token_file: "+tokenFile+"\n", &wh); err != nil {
		t.Fatal(err)
	}
	if wh.Delivery != DefaultDelivery() || !wh.HTTPClientConfig.FollowRedirects {
		t.Errorf("a webhook read from YAML lost its defaults: %+v", wh)
	}
	h, err := NewWebhook(wh, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Notify(t.Context(), incident); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	am := DefaultAlertmanagerConfig()
	if err := decode(t, "url: "+srv.URL+"\ntls_config: {ca_file: "+ca.CAFile+"}\nbasic_auth: {username: seer, password: pw}\n", &am); err != nil {
		t.Fatal(err)
	}
	a, err := NewAlertmanager(am, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Notify(t.Context(), incident); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := seen()
	// "seer:pw" in base64.
	if len(got) != 2 || got[0] != "Bearer s3cret" || got[1] != "Basic c2Vlcjpwdw==" {
		t.Fatalf("the server saw Authorization %q; want the bearer token, then basic auth", got)
	}
}

// TestNotifierWithoutCAFails: a notifier that does not trust the server's
// CA sends nothing, does not retry, and says what to set.
func TestNotifierWithoutCAFails(t *testing.T) {
	ca := tlstest.New(t)
	srv, seen := tlsServer(t, ca)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	cfg := DefaultWebhookConfig()
	cfg.URL, cfg.Delivery = srv.URL, fast()
	reg := prometheus.NewRegistry()
	h, err := NewWebhook(cfg, logger, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Notify(t.Context(), incident); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	for _, want := range []string{"notification failed", "certificate signed by unknown authority", "tls_config.ca_file"} {
		if !strings.Contains(text, want) {
			t.Errorf("the log does not say %q:\n%s", want, text)
		}
	}
	if n := testutil.ToFloat64(h.w.m.sent.WithLabelValues("retried")); n != 0 {
		t.Errorf("retried %g times; a certificate the client does not trust will not change", n)
	}
	if n := testutil.ToFloat64(h.w.m.sent.WithLabelValues("failed")); n != 1 {
		t.Errorf("failed = %g; want 1", n)
	}
	if got := seen(); len(got) != 0 {
		t.Errorf("the server got %d requests", len(got))
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestClientConfigErrors: what is wrong with a notifier's client is
// refused by Validate, naming the key (and the file).
func TestClientConfigErrors(t *testing.T) {
	ca := tlstest.New(t)
	notPEM := writeFile(t, "ca.pem", "not a certificate")
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"tls_config: {ca_file: " + missing + "}", []string{"tls_config", missing}},
		{"tls_config: {ca_file: " + notPEM + "}", []string{"tls_config", "unable to use specified CA cert", notPEM}},
		{"tls_config: {cert_file: " + ca.ClientCertFile + ", key_file: " + ca.KeyFile + "}", []string{"tls_config", "client cert", ca.ClientCertFile}},
		{"bearer_token_file: " + missing, []string{"bearer_token_file", missing}},
		{"authorization: {credentials_file: " + missing + "}", []string{"authorization.credentials_file", missing}},
		{"basic_auth: {username: a, password_file: " + missing + "}", []string{"basic_auth.password_file", missing}},
		{"bearer_token: x\nbasic_auth: {username: a, password: b}", []string{"basic_auth", "bearer_token"}},
		{"bearer_token: x\nheaders: {authorization: Bearer y}", []string{"headers.Authorization", "keep one"}},
		{"proxy_url: http://127.0.0.1:3128\nproxy_from_environment: true", []string{"proxy_from_environment"}},
	} {
		var wh WebhookConfig
		if err := decode(t, "url: https://127.0.0.1:9/hook\n"+tc.yaml+"\n", &wh); err != nil {
			t.Errorf("decoding %q: %v", tc.yaml, err)
			continue
		}
		err := wh.Validate()
		if err == nil {
			t.Errorf("%q was accepted", tc.yaml)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", tc.yaml, err, w)
			}
		}
		if _, err := NewWebhook(wh, quiet(), nil); err == nil {
			t.Errorf("NewWebhook accepted %q", tc.yaml)
		}
	}
	var wh WebhookConfig
	if err := decode(t, "url: https://127.0.0.1:9/hook\ntls_confg: {ca_file: x}\n", &wh); err == nil || !strings.Contains(err.Error(), "tls_confg") {
		t.Errorf("a misspelt key: %v; want an error naming it", err)
	}
	am := DefaultAlertmanagerConfig()
	am.URL = "https://127.0.0.1:9"
	am.HTTPClientConfig.TLSConfig.CAFile = missing
	if err := am.Validate(); err == nil || !strings.Contains(err.Error(), "alertmanager: tls_config") {
		t.Errorf("alertmanager with a missing CA: %v", err)
	}
	// The headers of an older configuration still work alone.
	if err := decode(t, "url: https://127.0.0.1:9/hook\nheaders: {Authorization: Bearer y}\n", &wh); err != nil || wh.Validate() != nil {
		t.Errorf("headers alone: %v, %v", err, wh.Validate())
	}
}
