package servertls_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/seerops/seer/internal/servertls"
	"github.com/seerops/seer/internal/servertls/tlstest"
)

func parse(t *testing.T, doc string) servertls.Config {
	t.Helper()
	var c servertls.Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decoding %q: %v", doc, err)
	}
	return c
}

func TestZeroIsOff(t *testing.T) {
	var c servertls.Config
	if c.Enabled() {
		t.Fatal("the zero config asks for TLS")
	}
	cfg, err := c.Build()
	if cfg != nil || err != nil {
		t.Fatalf("Build of the zero config = %v, %v; want nil, nil", cfg, err)
	}
}

func TestValidateNamesKeyAndFile(t *testing.T) {
	ca, other := tlstest.New(t), tlstest.New(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		c    servertls.Config
		want []string
	}{
		{"missing cert", cfg(missing, ca.KeyFile, ""), []string{"cert_file", missing, "no such file"}},
		{"missing key", cfg(ca.CertFile, missing, ""), []string{"key_file", missing}},
		{"no key", cfg(ca.CertFile, "", ""), []string{"key_file is not set"}},
		{"cert not PEM", cfg(notPEM, ca.KeyFile, ""), []string{"cert_file", notPEM, "no PEM CERTIFICATE"}},
		{"key is a cert", cfg(ca.CertFile, ca.CertFile, ""), []string{"key_file", ca.CertFile, "no PEM PRIVATE KEY"}},
		{"key of another cert", cfg(ca.CertFile, other.KeyFile, ""), []string{"key_file", other.KeyFile, "does not go with cert_file", ca.CertFile}},
		{"client CA not PEM", cfg(ca.CertFile, ca.KeyFile, notPEM), []string{"client_ca_file", notPEM}},
		{"client CA missing", cfg(ca.CertFile, ca.KeyFile, missing), []string{"client_ca_file", missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, berr := tc.c.Build(); berr == nil {
				t.Error("Build accepted what Validate refused")
			}
		})
	}
	bad := cfg(ca.CertFile, ca.KeyFile, ca.CAFile)
	bad.ClientAuth = "Sometimes"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "client_auth_type") {
		t.Errorf("an unknown client_auth_type: %v", err)
	}
	if err := cfg(ca.CertFile, ca.KeyFile, ca.CAFile).Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

func TestYAMLKeys(t *testing.T) {
	ca := tlstest.New(t)
	c := parse(t, "cert_file: "+ca.CertFile+"\nkey_file: "+ca.KeyFile+"\nmin_version: TLS13\n")
	cfg, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("min_version TLS13 gave %x", cfg.MinVersion)
	}
	if def, err := parse(t, "cert_file: "+ca.CertFile+"\nkey_file: "+ca.KeyFile+"\n").Build(); err != nil || def.MinVersion != tls.VersionTLS12 {
		t.Errorf("without min_version: %v; want TLS 1.2 the oldest taken", err)
	}
	if err := parse(t, "min_version: TLS13\n").Validate(); err == nil || !strings.Contains(err.Error(), "cert_file and key_file are not") {
		t.Errorf("min_version without a certificate: %v; want an error saying TLS would be off", err)
	}
	var bad servertls.Config
	if err := yaml.Unmarshal([]byte("min_version: TLS99\n"), &bad); err == nil {
		t.Error("min_version TLS99 was accepted")
	}
}

// handshake dials addr trusting pool and returns the serial number of the
// certificate the server showed.
func handshake(t *testing.T, addr string, conf *tls.Config) (string, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String() +
		conn.ConnectionState().PeerCertificates[0].Issuer.String(), nil
}

func serve(t *testing.T, c servertls.Config) string {
	t.Helper()
	conf, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Read(make([]byte, 1))
			}(conn)
		}
	}()
	return ln.Addr().String()
}

// A renewed certificate is served from the next handshake on.
func TestCertificateReloaded(t *testing.T) {
	first, second := tlstest.New(t), tlstest.New(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	install := func(ca *tlstest.CA) {
		for src, dst := range map[string]string{ca.CertFile: certFile, ca.KeyFile: keyFile} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first)
	addr := serve(t, cfg(certFile, keyFile, ""))
	if _, err := handshake(t, addr, first.ClientConfig()); err != nil {
		t.Fatalf("trusting the first CA: %v", err)
	}
	if _, err := handshake(t, addr, second.ClientConfig()); err == nil {
		t.Fatal("a client trusting only the second CA accepted the first CA's certificate")
	}
	install(second)
	if _, err := handshake(t, addr, second.ClientConfig()); err != nil {
		t.Fatalf("after the files were replaced, trusting the second CA: %v", err)
	}
	if _, err := handshake(t, addr, first.ClientConfig()); err == nil {
		t.Fatal("the old certificate is still served")
	}
}

// With client_ca_file a client must show a certificate from that CA.
func TestClientCertificateRequired(t *testing.T) {
	ca := tlstest.New(t)
	addr := serve(t, cfg(ca.CertFile, ca.KeyFile, ca.CAFile))
	// In TLS 1.3 the server's refusal arrives after the client's
	// handshake: it shows on the first read.
	read := func(conf *tls.Config) error {
		conn, err := tls.Dial("tcp", addr, conf)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("x")); err != nil {
			return err
		}
		_, err = conn.Read(make([]byte, 1))
		return err
	}
	err := read(ca.ClientConfig())
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("without a client certificate: %v; want the server to require one", err)
	}
	pair, err := tls.LoadX509KeyPair(ca.ClientCertFile, ca.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	withCert := ca.ClientConfig()
	withCert.Certificates = []tls.Certificate{pair}
	// The server reads one byte and hangs up: EOF is a handshake that went through.
	if err := read(withCert); err != nil && !errors.Is(err, io.EOF) {
		t.Errorf("with the client certificate: %v", err)
	}
}

func cfg(cert, key, clientCA string) servertls.Config {
	var c servertls.Config
	c.TLSCertPath, c.TLSKeyPath, c.ClientCAs = cert, key, clientCA
	return c
}
