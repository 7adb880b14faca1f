package semconv

import "testing"

func TestBuiltin(t *testing.T) {
	for _, c := range []struct {
		name string
		want Quantity
		bad  Direction
	}{
		{"http.server.request.duration_rate", RequestRate, Either},
		{"http.server.request.duration_p99", Latency, Rise},
		{"gcp_api_calls_rate", RequestRate, Either},
		{"node_cpu_seconds_rate", CPU, Rise},
		{"cpu_usage_rate_pct", CPU, Rise},
		{"node_memory_MemAvailable_bytes", Memory, Fall},
		{"node_filesystem_avail_bytes", Disk, Fall},
		{"node_netstat_Tcp_RetransSegs_rate", Retransmits, Rise},
		{"success_rate_pct", SuccessRatio, Fall},
		{"latency_ms", Latency, Rise},
		{"client_latency_p90_s", Latency, Rise},
		{"workload_ops", RequestRate, Either},
		{"go_gc_duration_seconds", GC, Rise},
		{"up", Up, Fall},
		{"db_pool_in_use", Pool, Rise},
		{"http_requests_errors_ratio", ErrorRatio, Rise},
		{"process_open_fds", FileDesc, Rise},
		{"syscall_read", Unknown, Either},
		{"seer_trace_error_origin_ratio", ErrorOrigin, Rise},
		{"seer_log_error_lines_rate", ErrorCount, Rise},
		{"seer_trace_call_gap_seconds", NetDelay, Rise},
		{"seer_trace_self_time_seconds", SelfTime, Rise},
		{"kube_pod_up", Up, Fall},
	} {
		m := Default.Of(c.name, nil)
		if m.Quantity != c.want || m.Bad != c.bad {
			t.Errorf("%s: got %q %s, want %q %s", c.name, m.Quantity, m.Bad, c.want, c.bad)
		}
	}
}

func TestRulesAndPeers(t *testing.T) {
	tb, err := New(Config{Rules: []Rule{{Match: `call\.([^.]+)\..*latency.*`, Quantity: Latency, Peer: "$1"}, {Match: `.*_lod`, Quantity: RequestRate}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := tb.Of("call.adservice.latency_p90_s", nil); m.Quantity != Latency || m.Peer != "adservice" {
		t.Errorf("call edge: %+v", m)
	}
	if m := tb.Of("carts_lod", nil); m.Quantity != RequestRate {
		t.Errorf("lod: %+v", m)
	}
	if m := tb.Of("rpc.client.duration_p99", map[string]string{"peer.service": "db"}); m.Peer != "db" || m.Quantity != Latency {
		t.Errorf("peer label: %+v", m)
	}
	if _, err := New(Config{Rules: []Rule{{Match: "(", Quantity: "nope", Bad: "sideways"}}}); err == nil {
		t.Error("a bad rule was accepted")
	}
}

func TestRuleMeaningsKeepTheUnit(t *testing.T) {
	tb, err := New(Config{Rules: []Rule{{Match: `call\.([^.]+)\..*latency.*`, Quantity: Latency, Peer: "$1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := tb.Of("call.cart.latency_p90_s", nil); m.Unit != "s" {
		t.Errorf("a rule's latency in seconds: unit %q", m.Unit)
	}
}
