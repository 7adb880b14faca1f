package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/seerops/seer/internal/auth"
)

// apiError is a request the client must fix: its status, a bounded reason
// for the rejected-requests counter, and a message saying what to change.
type apiError struct {
	status int
	reason string
	msg    string
	header map[string]string
}

func (e *apiError) Error() string { return e.msg }

// badRequest is a 400 with reason and a formatted message.
func badRequest(reason, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// reply writes v as JSON with status. It encodes before writing anything so
// that an encoding failure can still be answered with a 500.
func reply(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	writeBody(w, status, append(b, '\n'))
	return nil
}

// writeError writes {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg}) // a struct of one string always encodes
	writeBody(w, status, append(b, '\n'))
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing left to tell it
}

// refusal is the answer to a request auth refused: 401 without a valid
// token, 403 with one whose role does not grant p.
func refusal(err error, p auth.Permission) *apiError {
	if errors.Is(err, auth.ErrNoToken) {
		return &apiError{status: http.StatusUnauthorized, reason: "unauthenticated",
			msg:    fmt.Sprintf("this needs a bearer token with the %s permission: send the header Authorization: Bearer TOKEN (an admin makes one with `seer token new`)", p),
			header: map[string]string{"WWW-Authenticate": `Bearer realm="seer"`}}
	}
	return &apiError{status: http.StatusForbidden, reason: "forbidden", msg: err.Error()}
}
