package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// postJSON sends v as JSON to a running seer at server+path and returns the
// body of its answer. what names what is sent ("the event"), for the errors.
// A non-2xx answer is an error carrying the server's own message. The token
// in SEER_TOKEN, when set, goes as the bearer token.
func postJSON(ctx context.Context, server, path, what string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return call(ctx, http.MethodPost, server, path, what, bytes.NewReader(body))
}

// getJSON asks a running seer for server+path and returns the body of its
// answer, with the errors of postJSON.
func getJSON(ctx context.Context, server, path, what string) ([]byte, error) {
	return call(ctx, http.MethodGet, server, path, what, nil)
}

func call(ctx context.Context, method, server, path, what string, body io.Reader) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(server, "/")+path, body)
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok := strings.TrimSpace(os.Getenv("SEER_TOKEN")); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s at %s (is seer running?): %w", strings.ToLower(method), what, server, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(out, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s answered %s: %s", server, resp.Status, e.Error)
		}
		return nil, fmt.Errorf("%s answered %s: %s", server, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}
