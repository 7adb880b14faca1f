package main

import (
	"fmt"
	"io"

	"github.com/seerops/seer/internal/auth"
)

// runToken makes a token: seer token new --role operate [--name NAME]. It
// prints the token once (for the client) and the line for the config (the
// hash, which is all seer keeps).
func runToken(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "new" {
		return fmt.Errorf("%w: give seer token new --role read|ingest|operate|admin [--name NAME]", errUsage)
	}
	fs := newFlagSet("token new", stderr)
	role := fs.String("role", "", "what the token may do: read, ingest (receivers, events), operate (read, ingest, approve, feedback) or admin")
	name := fs.String("name", "", "who holds it, as the audit trail will name them (default: the role)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected %q; give --role and --name", errUsage, pos[0])
	}
	if *name == "" {
		*name = *role
	}
	token, hash := auth.NewToken()
	t := auth.Token{Name: *name, Role: auth.Role(*role), SHA256: hash}
	if err := (auth.Config{Mode: auth.ModeAuto, Tokens: []auth.Token{t}}).Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Fprintf(stdout, "token (shown once; clients send it as Authorization: Bearer TOKEN, the seer CLI reads SEER_TOKEN):\n  %s\n", token)
	fmt.Fprintf(stdout, "add under auth.tokens in the config (or tokens in auth.tokens_file):\n  - {name: %s, role: %s, sha256: %s}\n", t.Name, t.Role, t.SHA256)
	return nil
}
