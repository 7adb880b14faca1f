package cases

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadSeerCase feeds arbitrary text to every file of a case written by
// `seer sim suite` (case.json, metrics.csv, logs.jsonl, spans.jsonl,
// events.jsonl, topology.json) and to the RCD adjacency reader: a case or
// an error, never a panic.
func FuzzLoadSeerCase(f *testing.F) {
	f.Add(`{"system":"shop","onset":1740830400,"end":1740830700,"root_cause":{"entity":"cart","kind":"crash"}}`, "time,entity,name,value\n1740830400,cart,up,1\n",
		`{"time":1740830400,"entity":"cart","severity":"error","body":"boom"}`, `{"trace_id":"t","span_id":"s","service":"cart","start":1740830400,"duration_ns":5}`,
		`{"time":1740830400,"entity":"cart","kind":"deploy"}`, `{"services":["cart"],"edges":[{"caller":"a","callee":"cart"}]}`)
	f.Add("{}", "a,b\n", "{", "[", "null", "1")
	f.Fuzz(func(t *testing.T, meta, metrics, logs, spans, events, topo string) {
		d := t.TempDir()
		for name, content := range map[string]string{"case.json": meta, "metrics.csv": metrics, "logs.jsonl": logs,
			"spans.jsonl": spans, "events.jsonl": events, "topology.json": topo} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = loadSeer(filepath.Dir(d), d)
		_, _ = readAdjacency(filepath.Join(d, "metrics.csv"))
	})
}
