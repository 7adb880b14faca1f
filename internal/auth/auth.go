package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Permission is what a request needs.
type Permission int

// The permissions, from what a collector needs to what only an admin does.
const (
	// None is for health checks and /metrics: anyone may ask.
	None Permission = iota
	// Read is for the GET routes of the API.
	Read
	// Ingest is for the receivers and change events.
	Ingest
	// Operate is for decisions: approving and rejecting runs, feedback.
	Operate
	// Admin is for what changes seer itself.
	Admin
)

var permNames = [...]string{None: "none", Read: "read", Ingest: "ingest", Operate: "operate", Admin: "admin"}

func (p Permission) String() string { return permNames[p] }

// Role is a token's role: read, ingest, operate or admin.
type Role string

// The roles.
const (
	RoleRead    Role = "read"
	RoleIngest  Role = "ingest"
	RoleOperate Role = "operate"
	RoleAdmin   Role = "admin"
)

// grants is what each role may do: an ingest token (a collector's) reads
// nothing; an operator reads, sends events and decides.
var grants = map[Role][]Permission{
	RoleRead:    {Read},
	RoleIngest:  {Ingest},
	RoleOperate: {Read, Ingest, Operate},
	RoleAdmin:   {Read, Ingest, Operate, Admin},
}

// Allows reports whether role r grants p.
func (r Role) Allows(p Permission) bool {
	if p == None {
		return true
	}
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// Token is one configured token: the hash of its secret, never the secret.
type Token struct {
	// Name identifies the holder in the audit trail.
	Name string `yaml:"name"`
	Role Role   `yaml:"role"`
	// SHA256 is the hex SHA-256 of the token, as `seer token new` prints it.
	SHA256 string `yaml:"sha256"`
}

// Mode says when authentication is on.
type Mode string

// The modes.
const (
	// ModeAuto turns authentication on when any listener is off loopback.
	ModeAuto Mode = "auto"
	// ModeOn turns it on everywhere.
	ModeOn Mode = "on"
)

// Config is the auth section of seer's configuration.
type Config struct {
	// Mode is auto (on whenever a listener is not on loopback) or on.
	Mode Mode `yaml:"mode"`
	// Tokens are the tokens accepted, by hash.
	Tokens []Token `yaml:"tokens"`
	// TokensFile, when set, holds more tokens: a YAML file with a tokens
	// list like the one above, kept apart from the configuration.
	TokensFile string `yaml:"tokens_file"`
}

// DefaultConfig is auto mode with no tokens: fine on loopback, refused
// elsewhere until tokens are configured.
func DefaultConfig() Config { return Config{Mode: ModeAuto} }

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
	hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if c.Mode != ModeAuto && c.Mode != ModeOn {
		errs = append(errs, fmt.Errorf("mode must be auto or on, got %q", c.Mode))
	}
	errs = append(errs, validateTokens("tokens", c.Tokens))
	return errors.Join(errs...)
}

func validateTokens(key string, ts []Token) error {
	var errs []error
	seen := map[string]bool{}
	for i, t := range ts {
		if !nameRE.MatchString(t.Name) {
			errs = append(errs, fmt.Errorf("%s[%d].name %q must be 1-64 letters, digits, '.', '_', '@' or '-'", key, i, t.Name))
		}
		if _, ok := grants[t.Role]; !ok {
			errs = append(errs, fmt.Errorf("%s[%d].role %q must be read, ingest, operate or admin", key, i, t.Role))
		}
		if !hashRE.MatchString(t.SHA256) {
			errs = append(errs, fmt.Errorf("%s[%d].sha256 must be 64 lowercase hex digits (the hash `seer token new` prints, not the token)", key, i))
		} else if seen[t.SHA256] {
			errs = append(errs, fmt.Errorf("%s[%d]: the same token is listed twice", key, i))
		}
		seen[t.SHA256] = true
	}
	return errors.Join(errs...)
}

// Load reads the tokens file, when there is one, and returns every token.
func (c Config) Load() ([]Token, error) {
	ts := append([]Token(nil), c.Tokens...)
	if c.TokensFile == "" {
		return ts, nil
	}
	data, err := os.ReadFile(c.TokensFile)
	if err != nil {
		return nil, fmt.Errorf("reading auth.tokens_file: %w", err)
	}
	var f struct {
		Tokens []Token `yaml:"tokens"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", c.TokensFile, err)
	}
	if err := validateTokens("tokens", f.Tokens); err != nil {
		return nil, fmt.Errorf("%s: %w", c.TokensFile, err)
	}
	return append(ts, f.Tokens...), nil
}

// Loopback reports whether addr (host:port) listens on loopback only. An
// empty host listens everywhere; a name other than localhost may resolve
// anywhere, so both count as not loopback.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewToken makes a random token and returns it with its hash. The token is
// shown once; only the hash is stored.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = "seer_" + base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is the hex SHA-256 of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Identity is who made a request.
type Identity struct {
	// Name is the token's name, or Anonymous when authentication is off.
	Name string
	Role Role
}

// Anonymous names the caller when authentication is off (loopback only).
const Anonymous = "anonymous"

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext is the identity a request was authenticated as; without one
// it is Anonymous.
func FromContext(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return Identity{Name: Anonymous}
}
