package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seerops/seer/internal/silence"
)

// runSilence is seer silence add|list|expire.
func runSilence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: seer silence add MATCHERS --for 2h | list | expire ID", errUsage)
	}
	verb := args[0]
	fs := newFlagSet("silence "+verb, stderr)
	server := fs.String("server", "http://127.0.0.1:7070", "the seer to tell")
	dur := fs.Duration("for", 0, "add: how long the silence lasts (e.g. 2h)")
	comment := fs.String("comment", "", "add: why (a ticket, a maintenance)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	show := func(out []byte) error {
		var got struct {
			Silence silence.Silence `json:"silence"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			return fmt.Errorf("reading the answer of %s: %w", *server, err)
		}
		fmt.Fprintln(stdout, got.Silence)
		return nil
	}
	switch verb {
	case "add":
		if len(pos) == 0 || *dur <= 0 {
			return fmt.Errorf(`%w: seer silence add 'service="cart"' [more matchers] --for 2h [--comment TEXT]`, errUsage)
		}
		matchers := strings.Join(pos, ",")
		if _, err := silence.Parse(matchers); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		out, err := postJSON(ctx, *server, "/api/v1/silences", "the silence",
			map[string]string{"matchers": matchers, "for": dur.String(), "comment": *comment})
		if err != nil {
			return err
		}
		return show(out)
	case "list":
		out, err := getJSON(ctx, *server, "/api/v1/silences", "the silences")
		if err != nil {
			return err
		}
		var got struct {
			Silences []silence.Silence `json:"silences"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			return fmt.Errorf("reading the answer of %s: %w", *server, err)
		}
		now := time.Now()
		for _, s := range got.Silences {
			state := "active"
			switch {
			case !now.Before(s.EndsAt):
				state = "ended"
			case now.Before(s.StartsAt):
				state = "pending"
			}
			fmt.Fprintf(stdout, "%-7s %s\n", state, s)
		}
		return nil
	case "expire":
		if len(pos) != 1 {
			return fmt.Errorf("%w: seer silence expire ID (seer silence list shows the ids)", errUsage)
		}
		out, err := call(ctx, http.MethodDelete, *server, "/api/v1/silences/"+url.PathEscape(pos[0]), "the expiry", nil)
		if err != nil {
			return err
		}
		return show(out)
	}
	return fmt.Errorf("%w: seer silence %q: want add, list or expire", errUsage, verb)
}
