//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/seerops/seer/internal/eval/overload"
)

// asSeerEnv makes the test binary run as seer: `seer eval overload` starts
// its own executable as `seer run`, and under `go test` that is this one.
const asSeerEnv = "SEER_TEST_AS_SEER"

func TestMain(m *testing.M) {
	if os.Getenv(asSeerEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestEvalOverloadShort runs `seer eval overload --short`: a real `seer
// run` under a 512 MiB limit, offered five times the rate it sustains for
// 20 s over OTLP/HTTP, OTLP/gRPC and remote_write. Its checks are the
// test's: RSS below the limit, seer up, refusals rather than growth, and
// the probe's latency back to its baseline within 30 s.
func TestEvalOverloadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("about 35 s of load on a real seer; not under -short")
	}
	if raceEnabled {
		t.Skip("seer would run race-instrumented (memory and speed not its own); CI runs this test without -race")
	}
	var out, stderr bytes.Buffer
	err := evalOverload(t.Context(), []string{"--short", "--json"}, []string{asSeerEnv + "=1"}, &out, &stderr)
	var rep overload.Report
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("eval overload: %v; output %q: %v\n%s", err, out.String(), jerr, stderr.String())
	}
	var table bytes.Buffer
	printOverload(&table, rep)
	t.Logf("\n%s", table.String())
	if err != nil {
		t.Fatalf("eval overload: %v\n%s", err, stderr.String())
	}
	// What the checks rest on: the figures are real readings.
	if rep.Samples < 100 || rep.HWM < 20<<20 || rep.Requests["accepted"] == 0 || rep.ServerRequests["accepted"] == 0 {
		t.Errorf("%d memory samples, VmHWM %d, %d requests accepted (seer counted %g); want readings of a loaded seer",
			rep.Samples, rep.HWM, rep.Requests["accepted"], rep.ServerRequests["accepted"])
	}
}
