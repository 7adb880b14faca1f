package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// MaxBody is the largest request body accepted, in bytes.
const MaxBody = 1 << 20

// maxProblems caps how many invalid events one answer lists.
const maxProblems = 10

// eventKinds are the valid event kinds, in the order the errors list them.
var eventKinds = []signal.EventKind{
	signal.EventDeploy, signal.EventConfig, signal.EventUpgrade, signal.EventScale,
	signal.EventRestart, signal.EventRollback, signal.EventAlarm,
}

// eventIn is an event as clients send it; time is parsed by hand because it
// may be an RFC 3339 string or unix seconds.
type eventIn struct {
	Time   json.RawMessage   `json:"time"`
	Entity string            `json:"entity"`
	Kind   signal.EventKind  `json:"kind"`
	Text   string            `json:"text"`
	Source string            `json:"source"`
	Attrs  map[string]string `json:"attrs"`
}

// readBody checks the content type and reads at most MaxBody bytes of r.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, reason: "content_type",
			msg: fmt.Sprintf("content type %q is not JSON; send the header Content-Type: application/json", clip(ct))}
	}
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, reason: "too_large",
		msg: fmt.Sprintf("body is over %d bytes (1 MiB); split the events into smaller arrays", MaxBody)}
	if r.ContentLength > MaxBody {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, badRequest("read", "reading the body: %v", err)
	}
	return b, nil
}

// decodeEvents parses body, a JSON event object or an array of them, and
// checks every event. Events without a time are stamped now; without a
// source, "api". The error is an *apiError naming the event (by index in an
// array), the field and the byte offset where that helps.
func decodeEvents(body []byte, now time.Time) ([]signal.Event, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, badRequest("empty", "the body is empty; send a JSON event object or an array of them")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var (
		in    []eventIn
		array = trimmed[0] == '['
	)
	switch trimmed[0] {
	case '{':
		var e eventIn
		if err := dec.Decode(&e); err != nil {
			return nil, jsonError(err, -1, dec, body)
		}
		in = append(in, e)
	case '[':
		if _, err := dec.Token(); err != nil {
			return nil, jsonError(err, -1, dec, body)
		}
		for i := 0; dec.More(); i++ {
			var e eventIn
			if err := dec.Decode(&e); err != nil {
				return nil, jsonError(err, i, dec, body)
			}
			in = append(in, e)
		}
		if _, err := dec.Token(); err != nil { // the closing bracket
			return nil, jsonError(err, -1, dec, body)
		}
	default:
		return nil, badRequest("bad_json", "the body must be a JSON object or an array of objects; it starts with %q", clip(string(trimmed[:min(len(trimmed), 16)])))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("bad_json", "unexpected data after the JSON value at byte %d; send one object or one array", dec.InputOffset())
	}
	return checkEvents(in, array, now)
}

// checkEvents converts and validates the decoded events, naming up to
// maxProblems of the invalid ones.
func checkEvents(in []eventIn, array bool, now time.Time) ([]signal.Event, error) {
	out := make([]signal.Event, 0, len(in))
	var (
		problems []string
		reason   string
		total    int
	)
	bad := func(i int, r, format string, args ...any) {
		if reason == "" {
			reason = r
		}
		total++
		if len(problems) < maxProblems {
			problems = append(problems, where(i, array)+fmt.Sprintf(format, args...))
		}
	}
	for i, e := range in {
		t, err := eventTime(e.Time, now)
		if err != nil {
			bad(i, "bad_time", "time %v", err)
		}
		if strings.TrimSpace(e.Entity) == "" {
			bad(i, "missing_entity", `entity is missing; name what changed, e.g. "entity":"checkout"`)
		} else if err := signal.CheckEntity(e.Entity); err != nil {
			bad(i, "bad_entity", "%v", err)
		}
		switch {
		case e.Kind == "":
			bad(i, "bad_kind", "kind is missing; give one of %s", joinKinds(eventKinds))
		case !e.Kind.Valid():
			bad(i, "bad_kind", "kind %q is unknown; give one of %s", clip(string(e.Kind)), joinKinds(eventKinds))
		}
		src := e.Source
		if src == "" {
			src = "api"
		}
		out = append(out, signal.Event{Time: t, Entity: e.Entity, Kind: e.Kind, Text: e.Text, Source: src, Attrs: e.Attrs})
	}
	if len(problems) == 0 {
		return out, nil
	}
	msg := strings.Join(problems, "; ")
	if total > len(problems) {
		msg += fmt.Sprintf("; and %d more problems", total-len(problems))
	}
	return nil, badRequest(reason, "%s", msg)
}

// eventTime reads an event's time: absent or null is now; a JSON string is
// RFC 3339 or unix seconds; a JSON number is unix seconds.
func eventTime(raw json.RawMessage, now time.Time) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return now, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return parseTime(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return parseUnix(string(raw))
	}
	return time.Time{}, fmt.Errorf("must be an RFC 3339 string or unix seconds, not %s", clip(string(raw)))
}

// jsonError turns a decoding error into a message with the byte offset and,
// in an array, the index of the event.
func jsonError(err error, i int, dec *json.Decoder, body []byte) *apiError {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	at := where(i, i >= 0)
	switch {
	case errors.As(err, &syn):
		return badRequest("bad_json", "%smalformed JSON at byte %d: %v", at, syn.Offset, syn)
	case errors.As(err, &typ) && typ.Field == "":
		return badRequest("bad_json", "%sexpected an event object near byte %d, got a JSON %s", at, typ.Offset, typ.Value)
	case errors.As(err, &typ):
		return badRequest("bad_json", "%sfield %q near byte %d must be %s, not a JSON %s", at, typ.Field, typ.Offset, jsonType(typ.Field), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("bad_json", "%smalformed JSON: the body ends at byte %d before the value is complete", at, len(body))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the prefix is stable.
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return badRequest("unknown_field", "%sunknown field %s in the object ending at byte %d; valid fields are time, entity, kind, text, source, attrs", at, field, dec.InputOffset())
	}
	return badRequest("bad_json", "%smalformed JSON near byte %d: %v", at, dec.InputOffset(), err)
}

func jsonType(field string) string {
	if field == "attrs" {
		return "an object of string values"
	}
	return "a string"
}

func where(i int, array bool) string {
	if !array {
		return ""
	}
	return fmt.Sprintf("event %d: ", i)
}
