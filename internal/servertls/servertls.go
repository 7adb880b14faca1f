// Package servertls configures TLS on seer's listeners: the HTTP API (and
// the receivers that share its port) and the OTLP receiver's HTTP and gRPC
// listeners. The configuration is the Prometheus web configuration's
// tls_server_config (github.com/prometheus/exporter-toolkit/web), so a file
// written for a Prometheus exporter reads the same here.
//
// The certificate and key are read again on every TLS handshake, so a
// renewed certificate is served from the next connection on, without a
// restart. The client CA file is read once, when the listener starts.
package servertls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
)

// Config is one listener's TLS; the zero value leaves the listener on plain
// text. cert_file and key_file turn it on; client_ca_file makes the
// listener ask clients for certificates signed by those CAs (and, unless
// client_auth_type says otherwise, require them); min_version is TLS12
// unless set. The other keys are those of exporter-toolkit's
// tls_server_config.
type Config struct {
	web.TLSConfig `yaml:",inline"`
}

// Enabled reports whether c asks for TLS at all.
func (c Config) Enabled() bool { return c.IsEnabled() }

// Validate reports every problem with c, each naming its key and the file:
// a file that cannot be read, one that holds no PEM certificate or key, a
// key that does not belong to the certificate. A c that sets nothing is
// valid; one that sets options but no certificate is not.
func (c Config) Validate() error {
	if !c.Enabled() {
		if c.MinVersion != 0 || c.MaxVersion != 0 || len(c.CipherSuites) > 0 || len(c.CurvePreferences) > 0 || len(c.ClientAllowedSans) > 0 {
			return errors.New("TLS options are set but cert_file and key_file are not: TLS would be off; give both")
		}
		return nil
	}
	var errs []error
	cert, certErr := readPEM("cert_file", c.TLSCertPath, c.TLSCert, "CERTIFICATE")
	if certErr != nil {
		errs = append(errs, certErr)
	}
	key, keyErr := readPEM("key_file", c.TLSKeyPath, string(c.TLSKey), "PRIVATE KEY")
	if keyErr != nil {
		errs = append(errs, keyErr)
	}
	if certErr == nil && keyErr == nil {
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			errs = append(errs, fmt.Errorf("key_file %q does not go with cert_file %q: %w", c.TLSKeyPath, c.TLSCertPath, err))
		}
	}
	if c.ClientCAs != "" || c.ClientCAsText != "" {
		ca, err := readPEM("client_ca_file", c.ClientCAs, c.ClientCAsText, "CERTIFICATE")
		if err == nil && !x509.NewCertPool().AppendCertsFromPEM(ca) {
			err = fmt.Errorf("client_ca_file %q: no certificate in it could be parsed", c.ClientCAs)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// What is left (client_auth_type, versions, ciphers) the library checks.
	_, err := c.tlsConfig()
	return err
}

// readPEM reads the named file (or takes the inline text when the file is
// not set) and checks that it holds a PEM block whose type ends in want.
func readPEM(key, path, inline, want string) ([]byte, error) {
	data := []byte(inline)
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is not set: give the PEM file's path", key)
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil && path == "" {
			return nil, fmt.Errorf("%s: the inline text holds no PEM %s", key, want)
		}
		if b == nil {
			return nil, fmt.Errorf("%s %q holds no PEM %s", key, path, want)
		}
		if strings.HasSuffix(b.Type, want) {
			return data, nil
		}
	}
}

// Build validates c and builds the server's tls.Config, or nil when c is
// disabled. Its GetCertificate reads cert_file and key_file on every
// handshake.
func (c Config) Build() (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.tlsConfig()
}

// tlsConfig hands c to the library with seer's defaults: clients must show
// a certificate signed by client_ca_file when one is given, and TLS 1.2 is
// the oldest version taken.
func (c Config) tlsConfig() (*tls.Config, error) {
	wc := c.TLSConfig
	if (wc.ClientCAs != "" || wc.ClientCAsText != "") && wc.ClientAuth == "" {
		wc.ClientAuth = "RequireAndVerifyClientCert"
	}
	if wc.MinVersion == 0 {
		wc.MinVersion = web.TLSVersion(tls.VersionTLS12)
	}
	cfg, err := web.ConfigToTLSConfig(&wc)
	if err != nil {
		return nil, fmt.Errorf("%w (see client_auth_type, min_version, max_version, cipher_suites)", err)
	}
	return cfg, nil
}
