package main

import (
	"net/http/httptest"
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
	f := against(t, srv.URL)
	f([]string{"silence", "add", `service="cart"`, `kind=~"metric.*"`, "--for", "2h", "--comment", "migration"}, `1 {service="cart",kind=~"metric.*"} until`, "")
	f([]string{"silence", "list"}, `active  1 {service="cart",kind=~"metric.*"}`, "")
	f([]string{"silence", "expire", "1"}, "1 {service", "")
	f([]string{"silence", "list"}, "ended", "")
	f([]string{"silence", "add", `service="cart"`}, "", "--for 2h")
	f([]string{"silence", "add", `service=~".*"`, "--for", "1h"}, "", "match everything")
	f([]string{"silence", "expire", "9"}, "", "404 Not Found: silence 9 not found")
}
