package sqlite

import (
	"database/sql"
	"maps"
	"testing"
)

// FuzzStrMap feeds arbitrary column text to the map codec: an error or a
// map that encodes back to the same map, never a panic.
func FuzzStrMap(f *testing.F) {
	for _, seed := range []string{"", "{}", `{"a":"b"}`, `{"a":null}`, `{"a":1}`, `[1]`, `{"\u0000":"\ud800"}`, "null", `{"a":"b","a":"c"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseStrMap(sql.NullString{String: s, Valid: true})
		if err != nil {
			return
		}
		col, err := strMap(m)
		if err != nil {
			t.Fatalf("%q decoded to %v, which does not encode: %v", s, m, err)
		}
		str, _ := col.(string)
		back, err := parseStrMap(sql.NullString{String: str, Valid: col != nil})
		if err != nil || !maps.Equal(m, back) {
			t.Fatalf("%q: %v encodes to %q, which decodes to %v (%v)", s, m, str, back, err)
		}
	})
}
