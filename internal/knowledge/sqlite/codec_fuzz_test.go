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

// docRow is one incidents row for scanIncident.
type docRow struct {
	opened int64
	doc    string
}

func (r docRow) Scan(dest ...any) error {
	*dest[0].(*int64) = 7
	*dest[1].(*string) = "open"
	*dest[2].(*sql.NullInt64) = sql.NullInt64{Int64: r.opened, Valid: true}
	*dest[3].(*sql.NullInt64) = sql.NullInt64{Int64: r.opened, Valid: true}
	*dest[4].(*sql.NullInt64) = sql.NullInt64{}
	*dest[5].(*string) = "title"
	*dest[6].(*string) = r.doc
	return nil
}

// FuzzIncidentDoc feeds arbitrary documents to the incident codec: an
// error, or an incident that encodes and then decodes and encodes to the
// same columns, never a panic.
func FuzzIncidentDoc(f *testing.F) {
	for _, seed := range []string{
		`{"entities":["a"],"observation_ids":[1,2],"causes":[{"entity":"a","kind":"errors","score":0.9}],"labels":{"k":"v"}}`,
		`{"resolved":1740830400000000000,"diagnosed":-1,"runbook":{"name":"r","mode":"auto"}}`, `{}`, `null`, `[`, `{"causes":[null]}`,
		`{"resolved":9223372036854775807}`, `{"labels":{"a":null},"entities":null}`,
	} {
		f.Add(int64(1740830400000000000), seed)
	}
	f.Fuzz(func(t *testing.T, opened int64, doc string) {
		in, err := scanIncident(docRow{opened, doc})
		if err != nil {
			return
		}
		args, err := incidentArgs(&in)
		if err != nil {
			t.Fatalf("%q decoded to an incident that does not encode: %v", doc, err)
		}
		again, err := scanIncident(docRow{opened, args[5].(string)})
		if err != nil {
			t.Fatalf("%q re-encoded as %q, which does not decode: %v", doc, args[5], err)
		}
		args2, err := incidentArgs(&again)
		if err != nil || args2[5] != args[5] {
			t.Fatalf("%q: encodes as %q, then %q (%v)", doc, args[5], args2[5], err)
		}
	})
}
