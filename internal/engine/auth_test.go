package engine

import (
	"strings"
	"testing"

	"github.com/seerops/seer/internal/auth"
)

func TestAuthenticatorMode(t *testing.T) {
	_, hash := auth.NewToken()
	tok := []auth.Token{{Name: "ops", Role: auth.RoleOperate, SHA256: hash}}
	f := func(mod func(*Config), on bool, wantErr string) {
		t.Helper()
		c := Default()
		mod(&c)
		a, err := c.authenticator()
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("err %v; want %q", err, wantErr)
		}
		if err == nil && (a != nil) != on {
			t.Errorf("authentication on = %v; want %v", a != nil, on)
		}
	}
	f(func(*Config) {}, false, "")
	f(func(c *Config) { c.HTTPAddr = "[::1]:7070"; c.OTLP.GRPCAddr = "localhost:4317" }, false, "")
	f(func(c *Config) { c.HTTPAddr = "0.0.0.0:7070" }, false, "http_addr 0.0.0.0:7070 is not loopback")
	f(func(c *Config) { c.OTLP.GRPCAddr = ":4317" }, false, "otlp.grpc_addr :4317 is not loopback")
	f(func(c *Config) { c.OTLP.HTTPAddr = "10.1.2.3:4318" }, false, "seer token new --role operate")
	f(func(c *Config) { c.OTLP.HTTPAddr = "10.1.2.3:4318"; c.Auth.Tokens = tok }, true, "")
	f(func(c *Config) { c.Auth.Mode = auth.ModeOn }, false, "auth.mode is on and no tokens")
	f(func(c *Config) { c.Auth.Mode = auth.ModeOn; c.Auth.Tokens = tok }, true, "")
	f(func(c *Config) { c.Auth.TokensFile = "/nonexistent/tokens.yaml" }, false, "auth.tokens_file")
}
