package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	op, opHash := NewToken()
	rd, rdHash := NewToken()
	a := New([]Token{{Name: "alice", Role: RoleOperate, SHA256: opHash}, {Name: "dash", Role: RoleRead, SHA256: rdHash}})
	f := func(header string, p Permission, wantName string, wantErr error) {
		t.Helper()
		id, err := a.Check(header, p)
		if !errors.Is(err, wantErr) || err == nil && id.Name != wantName {
			t.Errorf("Check(%q, %s) = %+v, %v; want %s, %v", header, p, id, err, wantName, wantErr)
		}
	}
	f("", Read, "", ErrNoToken)
	f("Basic "+op, Read, "", ErrNoToken)
	f("Bearer ", Read, "", ErrNoToken)
	f("Bearer "+op+"x", Read, "", ErrNoToken)
	f("Bearer "+op, Operate, "alice", nil)
	f("bearer  "+op, Ingest, "alice", nil)
	f("Bearer "+op, Admin, "", ErrForbidden)
	f("Bearer "+rd, Read, "dash", nil)
	f("Bearer "+rd, Operate, "", ErrForbidden)
	f("", None, Anonymous, nil)
	// Off: everyone is anonymous and may do anything.
	var off *Authenticator
	if id, err := off.Check("", Admin); err != nil || id.Name != Anonymous {
		t.Errorf("off: %+v %v", id, err)
	}
	if !strings.HasPrefix(op, "seer_") || Hash(op) != opHash || len(opHash) != 64 {
		t.Errorf("token %q hash %q", op, opHash)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7070": true, "[::1]:7070": true, "localhost:7070": true, "127.0.0.2:1": true,
		"0.0.0.0:7070": false, ":7070": false, "10.0.0.1:7070": false, "seer.example:7070": false, "[::]:7070": false, "bad": false,
	} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v; want %v", addr, got, want)
		}
	}
}

func TestConfig(t *testing.T) {
	_, h := NewToken()
	good := Token{Name: "ci-bot", Role: RoleIngest, SHA256: h}
	if err := (Config{Mode: ModeAuto, Tokens: []Token{good}}).Validate(); err != nil {
		t.Error(err)
	}
	err := Config{Mode: "off", Tokens: []Token{{Name: "a b", Role: "root", SHA256: "seer_secret"}, good, good}}.Validate()
	for _, want := range []string{`mode must be auto or on`, `tokens[0].name "a b"`, `tokens[0].role "root"`, `tokens[0].sha256 must be 64`, `tokens[2]: the same token`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
	file := filepath.Join(t.TempDir(), "tokens.yaml")
	os.WriteFile(file, []byte("tokens:\n  - {name: ops, role: admin, sha256: "+h+"}\n"), 0o600)
	ts, err := Config{Mode: ModeOn, TokensFile: file}.Load()
	if err != nil || len(ts) != 1 || ts[0].Name != "ops" {
		t.Errorf("Load: %+v %v", ts, err)
	}
	os.WriteFile(file, []byte("tokens:\n  - {name: ops, role: admin, token: x}\n"), 0o600)
	if _, err := (Config{Mode: ModeOn, TokensFile: file}).Load(); err == nil || !strings.Contains(err.Error(), "tokens.yaml") {
		t.Errorf("Load of a bad file: %v", err)
	}
}
