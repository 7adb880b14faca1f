package otlp

import (
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/seerops/seer/internal/ingest/guard"
)

// The collector's pdata decoders recurse once per nested message and have no
// depth limit: an attribute value nested a million levels deep (an array in
// an array in ...) ends the process with a stack overflow. So the nesting of
// a request is measured before pdata sees it, by a scan of the wire format
// that keeps its own stack and recurses nowhere.

// message is the part of an OTLP message type the depth scan needs: which
// of its fields hold messages, and their types. Fields not listed are
// skipped as opaque bytes; only messages that may contain attribute values
// (the one recursive part of OTLP) need to be listed.
type message map[protowire.Number]*message

// requestSchema is the top-level message of each export request, from the
// OTLP v1 schema (opentelemetry-proto common, resource, metrics, logs, trace)
// reduced to its nested messages; pdata's generated decoders list the same
// fields.
var requestSchema = func() [3]*message {
	anyValue := message{}
	keyValue := message{2: &anyValue}
	// The one recursive part: an AnyValue holds an array of AnyValues or a
	// list of KeyValues.
	anyValue[5] = &message{1: &anyValue}
	anyValue[6] = &message{1: &keyValue}
	scope := message{3: &keyValue}
	resource := message{1: &keyValue}
	resourceOf := func(scoped *message) *message {
		// Field 1000 is the deprecated instrumentation_library_*, which
		// pdata still reads.
		return &message{1: &resource, 2: scoped, 1000: scoped}
	}

	exemplar := message{7: &keyValue}
	points := func(attrs protowire.Number, exemplars protowire.Number) *message {
		return &message{1: &message{attrs: &keyValue, exemplars: &exemplar}}
	}
	number := points(7, 5) // Gauge and Sum
	metric := message{5: number, 7: number, 9: points(9, 8), 10: points(1, 11),
		11: &message{1: &message{7: &keyValue}}, 12: &keyValue}
	metrics := message{1: resourceOf(&message{1: &scope, 2: &metric})}

	record := message{5: &anyValue, 6: &keyValue}
	logs := message{1: resourceOf(&message{1: &scope, 2: &record})}

	span := message{9: &keyValue, 11: &message{3: &keyValue}, 13: &message{4: &keyValue}}
	traces := message{1: resourceOf(&message{1: &scope, 2: &span})}

	return [3]*message{kindMetrics: &metrics, kindLogs: &logs, kindTraces: &traces}
}()

// kindNames name the signal kinds in messages.
var kindNames = [3]string{kindMetrics: "metrics", kindLogs: "logs", kindTraces: "traces"}

// tooDeep is the 400 of a request over the depth limit.
func tooDeep(max int, what string) *guard.Problem {
	return guard.Errorf(http.StatusBadRequest, "too_deep",
		"the request nests deeper than %d levels of %s (otlp.max_depth); flatten its attribute values", max, what)
}

// checkProtoDepth reports a request in the protobuf encoding whose messages
// nest more than max levels deep, or whose wire format is broken. It costs
// one pass over data and no allocation beyond a stack of max entries.
func checkProtoDepth(data []byte, kind signalKind, max int) error {
	type frame struct {
		msg *message
		end int
	}
	stack := make([]frame, 1, 16)
	stack[0] = frame{requestSchema[kind], len(data)}
	pos := 0
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		if pos == top.end {
			stack = stack[:len(stack)-1]
			continue
		}
		b := data[pos:top.end]
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return guard.Malformed("the body is not an OTLP %s export request: at byte %d: %v", kindNames[kind], pos, protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType {
			if sub := (*top.msg)[num]; sub != nil {
				v, m := protowire.ConsumeBytes(b)
				if m < 0 {
					return guard.Malformed("the body is not an OTLP %s export request: at byte %d: %v", kindNames[kind], pos, protowire.ParseError(m))
				}
				if len(stack) >= max {
					return tooDeep(max, "messages")
				}
				pos += n + m - len(v)
				stack = append(stack, frame{sub, pos + len(v)})
				continue
			}
		}
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			// OTLP has no groups, and skipping one would recurse.
			return guard.Malformed("the body is not an OTLP %s export request: a group (field %d) at byte %d", kindNames[kind], num, pos)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return guard.Malformed("the body is not an OTLP %s export request: at byte %d: %v", kindNames[kind], pos, protowire.ParseError(m))
		}
		pos += n + m
	}
	return nil
}

// checkJSONDepth reports a request in the JSON encoding whose objects and
// arrays nest more than max levels deep. It does not validate the JSON: the
// decoder does that, once the nesting is known to be safe.
func checkJSONDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return tooDeep(max, "JSON objects and arrays")
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// checkDepth applies the depth limit to a request in either encoding. In
// JSON every nested message costs an object and often an array too, so a
// JSON request may nest twice as deep as the protobuf one.
func checkDepth(data []byte, kind signalKind, json bool, max int) error {
	if json {
		return checkJSONDepth(data, 2*max)
	}
	return checkProtoDepth(data, kind, max)
}
