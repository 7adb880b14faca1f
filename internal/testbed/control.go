package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/seerops/seer/internal/chaos"
)

// InjectRequest is the body of POST /chaos/inject.
type InjectRequest struct {
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	For    string            `json:"for"`
	Params map[string]string `json:"params,omitempty"`
}

// The control API, on loopback:
//
//	POST /chaos/inject {"kind","target","for","params"?}  → the injection
//	GET  /chaos                                            → every injection
//	POST /chaos/stop[?id=ID]                               → undo one, or all
//	POST /ctl/{action}/{service}   restart, rollback, free-disk, flush
//	GET  /state                                            → State
func (t *Testbed) serveControl() error {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /chaos/inject", func(w http.ResponseWriter, r *http.Request) {
		var req InjectRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			httpErr(w, http.StatusBadRequest, fmt.Errorf("the body must be {\"kind\",\"target\",\"for\"}: %w", err))
			return
		}
		d, err := time.ParseDuration(req.For)
		if err != nil {
			httpErr(w, http.StatusBadRequest, fmt.Errorf("for %q: %w", req.For, err))
			return
		}
		if _, ok := t.addrs[req.Target]; !ok {
			httpErr(w, http.StatusBadRequest, fmt.Errorf("target %q: give one of %v", req.Target, t.Services()))
			return
		}
		in, err := t.injector.Inject(r.Context(), req.Kind, req.Target, d, req.Params)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, chaos.ErrUnknownKind) {
				status = http.StatusBadRequest
			}
			httpErr(w, status, err)
			return
		}
		writeJSON(w, in)
	})
	mux.HandleFunc("GET /chaos", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, t.injector.List()) })
	mux.HandleFunc("POST /chaos/stop", func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("id"); id != "" {
			in, err := t.injector.Stop(r.Context(), id, "stopped")
			if err != nil {
				httpErr(w, http.StatusBadRequest, err)
				return
			}
			writeJSON(w, []chaos.Injection{in})
			return
		}
		err := t.injector.StopAll(r.Context(), "stopped")
		if err != nil {
			httpErr(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, t.injector.List())
	})
	mux.HandleFunc("POST /ctl/{action}/{service}", func(w http.ResponseWriter, r *http.Request) {
		out, err := t.Remedy(r.Context(), r.PathValue("action"), r.PathValue("service"))
		if err != nil {
			httpErr(w, http.StatusBadRequest, err)
			return
		}
		t.log.Info("remedy", "action", r.PathValue("action"), "service", r.PathValue("service"))
		fmt.Fprintln(w, out)
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		st, err := ReadState(t.cfg.Dir)
		if err != nil {
			httpErr(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, st)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	t.ctlAddr = ln.Addr().String()
	t.control = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go t.control.Serve(ln)
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func httpErr(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// Client talks to a running testbed's control API.
type Client struct {
	URL  string
	HTTP *http.Client
}

// NewClient reads the control address from a testbed directory.
func NewClient(dir string) (*Client, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, fmt.Errorf("no running testbed in %s (%w): start one with seer testbed up --dir %s", dir, err, dir)
	}
	return &Client{URL: "http://" + st.Control, HTTP: &http.Client{Timeout: 60 * time.Second}}, nil
}

// Do sends a request and decodes a JSON answer into out (when not nil);
// a non-2xx answer is an error with the server's message.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(*string); ok {
		*s = string(b)
		return nil
	}
	return json.Unmarshal(b, out)
}
