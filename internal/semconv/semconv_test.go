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
		// A disk's busy time is its saturation; reads and writes done are
		// work, like network bytes; the heap a collection is due at is no
		// GC pressure; sockets come and go with traffic; the monitoring
		// pipeline's own scrape times say nothing of the target.
		{"node_disk_io_time_seconds_rate", Disk, Rise},
		{"system.disk.operation_time", Disk, Rise},
		{"node_disk_reads_merged_rate", IO, Either},
		{"node_disk_written_bytes_rate", IO, Either},
		{"system.disk.io", IO, Either},
		{"disk_free_bytes", Disk, Fall}, // space, not work
		{"disk_used_bytes", Disk, Rise},
		{"go_memstats_next_gc_bytes", Unknown, Either},
		{"node_sockstat_TCP_mem_bytes", Network, Either},
		{"node_scrape_collector_duration_seconds", Unknown, Either},
		{"scrape_duration_seconds", Unknown, Either},
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

func TestLabelsAndSaturation(t *testing.T) {
	f := func(name string, labels map[string]string, q Quantity, bad Direction, limit float64) {
		t.Helper()
		m := Default.Of(name, labels)
		if m.Quantity != q || m.Bad != bad || m.Limit != limit || m.Saturation != (limit > 0) {
			t.Errorf("%s %v: got %+v, want %q bad %s limit %g", name, labels, m, q, bad, limit)
		}
	}
	f("node_cpu_seconds_rate", map[string]string{"cpu": "0", "mode": "idle"}, CPU, Fall, 0)
	f("node_cpu_seconds_rate", map[string]string{"cpu": "0", "mode": "user"}, CPU, Rise, 0)
	f("system.cpu.time_rate", map[string]string{"system.cpu.state": "idle"}, CPU, Fall, 0)
	f("node_filesystem_utilization", map[string]string{"mountpoint": "/"}, Disk, Rise, 1)
	f("node_memory_utilization", nil, Memory, Rise, 1)
	f("cpu_usage_pct", nil, CPU, Rise, 100)
	f("cpu_idle_pct", nil, CPU, Fall, 0)
	if m := Default.Of("node_filesystem_utilization", nil); !m.Host {
		t.Error("node_filesystem_utilization is not the host's")
	}
	if r, total, ok := Default.PartOf("node_filesystem_size_bytes"); !ok || !total || r.Name != "node_filesystem_utilization" {
		t.Errorf("PartOf(size): %+v %v %v", r, total, ok)
	}
	if r, total, ok := Default.PartOf("node_memory_MemAvailable_bytes"); !ok || total || r.Name != "node_memory_utilization" {
		t.Errorf("PartOf(MemAvailable): %+v %v %v", r, total, ok)
	}
	if _, _, ok := Default.PartOf("node_memory_MemFree_bytes"); ok {
		t.Error("MemFree is no part")
	}
	if _, err := New(Config{Ratios: []Ratio{{Name: "x", Free: "a", Total: "a"}}}); err == nil {
		t.Error("a ratio of a series to itself was accepted")
	}
}

// Work done and the pipeline's own timings are learned but judge nothing.
func TestThroughputIsNotJudged(t *testing.T) {
	for name, want := range map[string]bool{
		"node_disk_read_bytes_rate":              false,
		"node_network_receive_bytes_rate":        false,
		"node_sockstat_TCP_mem":                  false,
		"node_scrape_collector_duration_seconds": false,
		"node_disk_io_time_seconds_rate":         true,
		"node_filesystem_avail_bytes":            true,
		"node_cpu_seconds_rate":                  true,
	} {
		if got := Default.Of(name, nil).Judged(); got != want {
			t.Errorf("%s: judged %v, want %v", name, got, want)
		}
	}
}
