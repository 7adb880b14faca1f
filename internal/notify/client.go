package notify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/common/config"
)

// defaultHTTPClientConfig is Prometheus' default HTTP client: redirects
// followed, HTTP/2 on, no credentials, the system's CAs.
func defaultHTTPClientConfig() config.HTTPClientConfig { return config.DefaultHTTPClientConfig }

// validateClient reports every problem with a notifier's HTTP client
// configuration: conflicting credentials, and each file it names that
// cannot be read or does not hold what it should (a CA that is no PEM
// certificate, a client key that does not go with its certificate).
// headers are the notifier's own headers, which may not carry a second
// Authorization.
func validateClient(c config.HTTPClientConfig, headers map[string]string) error {
	// The files are listed before Validate moves bearer_token_file under
	// authorization, so that an error names the key that was written.
	files := []struct{ key, path string }{
		{"authorization.credentials_file", authField(c.Authorization, func(a *config.Authorization) string { return a.CredentialsFile })},
		{"bearer_token_file", c.BearerTokenFile},
		{"basic_auth.username_file", authField(c.BasicAuth, func(a *config.BasicAuth) string { return a.UsernameFile })},
		{"basic_auth.password_file", authField(c.BasicAuth, func(a *config.BasicAuth) string { return a.PasswordFile })},
		{"oauth2.client_secret_file", authField(c.OAuth2, func(a *config.OAuth2) string { return a.ClientSecretFile })},
	}
	if err := c.Validate(); err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.key, err))
		}
	}
	if _, err := config.NewTLSConfig(&c.TLSConfig); err != nil {
		errs = append(errs, fmt.Errorf("tls_config: %w", err))
	}
	credentials := c.Authorization != nil || c.BasicAuth != nil || c.OAuth2 != nil || c.BearerToken != "" || c.BearerTokenFile != ""
	for k := range headers {
		if credentials && strings.EqualFold(k, "Authorization") {
			errs = append(errs, errors.New("headers.Authorization and authorization (or basic_auth, oauth2, bearer_token) are both set: keep one"))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// What is left (a *_ref without a secret manager, say) shows when the
	// client is built.
	_, err := config.NewClientFromConfig(c, "seer_notify")
	return err
}

func authField[T any](a *T, f func(*T) string) string {
	if a == nil {
		return ""
	}
	return f(a)
}

// newClient builds a notifier's HTTP client from its configuration; a
// request is bounded by the delivery's timeout.
func newClient(name string, c config.HTTPClientConfig, d Delivery) (*http.Client, error) {
	client, err := config.NewClientFromConfig(c, "seer_notify_"+name)
	if err != nil {
		return nil, err
	}
	client.Timeout = d.Timeout
	return client, nil
}

// explain adds to a failed request's error what to set when the server's
// certificate is not trusted, and says whether trying again may help.
func explain(err error) (retry bool, _ error) {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return false, fmt.Errorf("%w (trust the CA that signed the server's certificate with tls_config.ca_file)", err)
	case errors.As(err, &hostname):
		return false, fmt.Errorf("%w (the URL's host is not in the server's certificate; tls_config.server_name can name one that is)", err)
	}
	return true, err
}
