package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/api"
	"github.com/seerops/seer/internal/silence"
)

// TestSilenceCommands drives seer silence against the real API handler.
func TestSilenceCommands(t *testing.T) {
	set, err := silence.NewSet(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Deps{Silences: set}, nil))
	defer srv.Close()
	f := func(args []string, wantOut, wantErr string) {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--server", srv.URL), nil, &out, &errb)
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: err %v, want %q", args, err, wantErr)
		}
		if !strings.Contains(out.String(), wantOut) {
			t.Errorf("%q: out %q, want %q", args, out.String(), wantOut)
		}
	}
	f([]string{"silence", "add", `service="cart"`, `kind=~"metric.*"`, "--for", "2h", "--comment", "migration"}, `1 {service="cart",kind=~"metric.*"} until`, "")
	f([]string{"silence", "list"}, `active  1 {service="cart",kind=~"metric.*"}`, "")
	f([]string{"silence", "expire", "1"}, "1 {service", "")
	f([]string{"silence", "list"}, "ended", "")
	f([]string{"silence", "add", `service="cart"`}, "", "--for 2h")
	f([]string{"silence", "add", `service=~".*"`, "--for", "1h"}, "", "match everything")
	f([]string{"silence", "expire", "9"}, "", "404 Not Found: silence 9 not found")
}
