package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDemoJSONContract(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs a simulated world; run without -short")
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--fault", "latency", "--json"}, nil, &out, &errOut); err != nil {
		t.Fatalf("seer demo --json: %v\n%s", err, errOut.String())
	}
	var res demoResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not the JSON contract: %v\n%s", err, out.String())
	}
	if res.Fault.Kind != "latency" || res.Fault.Target != "catalog" {
		t.Errorf("fault = %+v, want latency on catalog (the default)", res.Fault)
	}
	if len(res.RootCauses) == 0 || res.RootCauses[0].Entity != "catalog" {
		t.Fatalf("root causes = %+v, want catalog first", res.RootCauses)
	}
	if res.DetectedAfter == nil || *res.DetectedAfter > 10 {
		t.Errorf("detected_after_s = %v, want ≤ 10", ptr(res.DetectedAfter))
	}
	if res.DiagnosedAfter == nil || *res.DiagnosedAfter > 30 {
		t.Errorf("diagnosed_after_s = %v, want ≤ 30", ptr(res.DiagnosedAfter))
	}
	if res.Runbook == nil || res.Runbook.Mode != "dry-run" || len(res.Runbook.Actions) == 0 {
		t.Errorf("runbook = %+v, want a dry-run runbook with actions", res.Runbook)
	}
	if len(res.RootCauses[0].Evidence) == 0 {
		t.Error("the top cause carries no evidence")
	}
}

func TestDemoHealthyJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs a simulated world; run without -short")
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--fault", "none", "--json", "--after", "1m"}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	// The contract: with none, root_causes is an empty list and the delays null.
	for _, want := range []string{`"kind":"none"`, `"root_causes":[]`, `"detected_after_s":null`, `"diagnosed_after_s":null`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("healthy demo output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestCommandLineMistakesAreUsageErrors(t *testing.T) {
	f := func(args ...string) {
		t.Helper()
		var errOut bytes.Buffer
		err := run(context.Background(), args, nil, &bytes.Buffer{}, &errOut)
		if !errors.Is(err, errUsage) {
			t.Errorf("seer %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	f()
	f("frobnicate")
	f("demo", "--fault", "meteor")
	f("demo", "--speed", "0")
	f("demo", "--wait", "-1s")
	f("demo", "--json", "--wait", "10s")
	f("demo", "--runbooks", "/nonexistent/runbooks")
	f("run", "--log-level", "loud")
	f("event")
	f("event", "deploy")                       // no --service
	f("event", "explode", "--service", "cart") // unknown kind
	f("runbook")
	f("runbook", "check")
}

func ptr(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
