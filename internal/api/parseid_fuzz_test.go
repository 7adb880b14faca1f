package api

import (
	"strconv"
	"testing"
)

// FuzzParseID: an id is a positive whole number that prints back as the
// same number, or a 400; never a panic.
func FuzzParseID(f *testing.F) {
	for _, seed := range []string{"1", "0", "-1", "+7", "007", "9223372036854775807", "9223372036854775808", "", " 1", "1e3", "0x10"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseID(s)
		if err != nil {
			if e, ok := err.(*apiError); !ok || e.status != 400 {
				t.Fatalf("parseID(%q): %v, want a 400", s, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("parseID(%q) = %d", s, id)
		}
		if back, _ := strconv.ParseInt(strconv.FormatInt(id, 10), 10, 64); back != id {
			t.Fatalf("parseID(%q) = %d does not round-trip", s, id)
		}
	})
}
