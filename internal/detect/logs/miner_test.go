package logs

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestMinerGroupsAndKeepsIDs(t *testing.T) {
	m := NewMiner(MinerConfig{})
	a := m.Add("login of user=alice accepted from 10.0.0.1")
	if !a.New || a.ID == 0 || a.Template != "login of user=alice accepted from <*>" {
		t.Fatalf("first line: %+v", a)
	}
	b := m.Add("login of user=bob accepted from 10.0.0.2")
	if b.New || b.ID != a.ID {
		t.Fatalf("second line started template %d, want to join %d", b.ID, a.ID)
	}
	if b.Template != "login of user=<*> accepted from <*>" {
		t.Errorf("generalised template %q", b.Template)
	}
	if strings.Join(b.Params, ",") != "bob,10.0.0.2" {
		t.Errorf("params %q", b.Params)
	}
	c := m.Add("disk /dev/sda1 is 91% full")
	if !c.New || c.ID == a.ID {
		t.Fatalf("unrelated line joined: %+v", c)
	}
	ts := m.Templates()
	if len(ts) != 2 || ts[0].ID != a.ID || ts[0].Count != 2 || ts[1].Count != 1 {
		t.Errorf("templates %+v", ts)
	}
}

func TestMinerRefines(t *testing.T) {
	m := NewMiner(MinerConfig{})
	f := func(line, want string) {
		t.Helper()
		if got := m.Add(line); got.Template != want {
			t.Errorf("Add(%q) template %q, want %q", line, got.Template, want)
		}
	}
	// A soft token stays a constant until it varies, and then keeps the
	// constant part of the mix.
	f("session opened for user=root via ssh2", "session opened for user=root via ssh2")
	f("session opened for user=bob via ssh2", "session opened for user=<*> via ssh2")
	f("dumping core.1234 on node-7", "dumping core.<*> on node-<*>")
	f("dumping core.99 on node-12", "dumping core.<*> on node-<*>")
	// A soft token with another value is another template, until the
	// place has shown enough values to be a variable.
	f("worker R02-M1 up", "worker R02-M1 up")
	f("worker R02-M3 up", "worker R02-M3 up")
	f("worker R02-M4 up", "worker R02-M4 up")
	f("worker R02-M5 up", "worker R02-<*> up")
	f("worker R02-M1 up", "worker R02-<*> up")
	// A unit after a number varies with it.
	f("cached block of 877.0 B in memory", "cached block of <*> B in memory")
	f("cached block of 6.0 KB in memory", "cached block of <*> <*> in memory")
}

func TestMinerSplitsSettledWords(t *testing.T) {
	m := NewMiner(MinerConfig{})
	var a Match
	for i := range 3 {
		a = m.Add(fmt.Sprintf("session %d initialized by client Agent", i))
	}
	// A template meets another word: a template of its own.
	b := m.Add("session 7 initialized by client SPP")
	if !b.New || b.ID == a.ID || b.Template != "session <*> initialized by client SPP" {
		t.Fatalf("second client: %+v", b)
	}
	if got := m.Add("session 8 initialized by client Agent"); got.ID != a.ID {
		t.Errorf("first client went to %d, want %d", got.ID, a.ID)
	}
	// Enough words there and it is a variable: one template again.
	m.Add("session 9 initialized by client Foo")
	c := m.Add("session 9 initialized by client Bar")
	if c.Template != "session <*> initialized by client <*>" || c.ID != a.ID {
		t.Errorf("after %d clients: %+v", splitValues, c)
	}
	if tm, ok := m.Template(b.ID); !ok || tm.ID != a.ID {
		t.Errorf("merged id %d resolves to %+v %v", b.ID, tm, ok)
	}
	if m.Len() != 1 {
		t.Errorf("%d templates, want 1", m.Len())
	}
}

// TestMinerVariableNames checks that names with dots or dashes in them,
// first in the line or not, vary without splitting a template for good.
func TestMinerVariableNames(t *testing.T) {
	m := NewMiner(MinerConfig{})
	progs := []string{"chrome.exe", "firefox.exe", "outlook.exe", "git-remote.exe", "svchost.exe"}
	hosts := []string{"proxy.example.edu:5070", "api.example.com:443", "10.0.0.7:80"}
	var last Match
	for i := range 40 {
		last = m.Add(fmt.Sprintf("%s - %s open through proxy %s HTTPS", progs[i%5], hosts[i%3], hosts[(i/3)%3]))
	}
	if last.Template != "<*>.exe - <*> open through proxy <*> HTTPS" || m.Len() != 1 {
		t.Errorf("%d templates, last %q", m.Len(), last.Template)
	}
}

// TestMinerJoinsMixedSiblings checks that siblings join when they differ
// elsewhere only where one has a wildcard the other's text fits, or where
// both keep a soft word.
func TestMinerJoinsMixedSiblings(t *testing.T) {
	m := NewMiner(MinerConfig{})
	lines := []string{
		"Window{25928099 u0 com.example.app/com.example.app.Main} is visible: true",
		"Window{5ad29d07 u0 com.google.gms/com.google.gms.Main} is visible: true",
		"Window{89481145 u0 com.android.phone/com.android.phone.Main} is visible: false",
		"Window{f2a1328f u0 com.tencent.mm/com.tencent.mm.Main} is visible: true",
		"Window{d0c0ffee u0 org.other.app/org.other.app.Main} is visible: false",
	}
	var last Match
	for _, l := range lines {
		last = m.Add(l)
	}
	if m.Len() != 1 || last.Template != "Window{<*> u0 <*>.Main} is visible: <*>" {
		t.Errorf("%d templates, last %q", m.Len(), last.Template)
	}
}

func TestMinerOddLines(t *testing.T) {
	m := NewMiner(MinerConfig{MaxTokens: 8})
	f := func(line string, wantID bool) {
		t.Helper()
		got := m.Add(line)
		if (got.ID != 0) != wantID {
			t.Errorf("Add(%.40q) = %+v, want id: %v", line, got, wantID)
		}
	}
	f("", false)
	f(" \t\r\n", false)
	f("\xff\xfe bad \xc3", true)
	huge := strings.Repeat("word ", 1<<18) + "tail"
	f(huge, true)
	got := m.Add(huge)
	if got.New || len(got.Params) != 1 || !strings.HasSuffix(got.Params[0], "tail") {
		t.Errorf("huge line again: new %v, %d params", got.New, len(got.Params))
	}
	st := m.Stats()
	want := MinerStats{Lines: 5, Empty: 2, Truncated: 2, InvalidUTF8: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestMinerEvictsLeastRecent(t *testing.T) {
	m := NewMiner(MinerConfig{MaxClusters: 3})
	first := m.Add("alpha one").ID
	for i := range 3 {
		m.Add(fmt.Sprintf("beta%c two three", 'a'+i))
	}
	if _, ok := m.Template(first); ok {
		t.Errorf("oldest template %d survived", first)
	}
	if m.Len() != 3 || m.Stats().Evicted != 1 {
		t.Errorf("len %d evicted %d", m.Len(), m.Stats().Evicted)
	}
	// Evicted lines start again under a new id; the tree was pruned.
	if got := m.Add("alpha one"); !got.New || got.ID == first {
		t.Errorf("re-added evicted line: %+v", got)
	}
	if _, ok := m.root[2]; !ok {
		t.Errorf("tree lost length 2 after re-adding")
	}
}

func TestMinerSnapshot(t *testing.T) {
	m := NewMiner(MinerConfig{MaxClusters: 50})
	lines := benchLines(500)
	for _, l := range lines[:250] {
		m.Add(l)
	}
	snap, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var r Miner
	if err := r.UnmarshalBinary(snap); err != nil {
		t.Fatalf("restoring: %v", err)
	}
	if fmt.Sprint(r.Templates()) != fmt.Sprint(m.Templates()) || r.Stats() != m.Stats() {
		t.Fatalf("restored templates differ")
	}
	for i, l := range lines[250:] {
		a, b := m.Add(l), r.Add(l)
		if a.ID != b.ID || a.Template != b.Template || a.New != b.New {
			t.Fatalf("line %d: original %+v, restored %+v", i, a, b)
		}
	}
	if err := r.UnmarshalBinary(snap[:len(snap)-1]); err == nil {
		t.Errorf("truncated snapshot accepted")
	}
	if err := r.UnmarshalBinary([]byte("nope")); err == nil {
		t.Errorf("garbage accepted")
	}
}

func FuzzMiner(f *testing.F) {
	f.Add("user alice logged in from 10.0.0.1", "user bob logged in", 4)
	f.Add("", "\xff", 2)
	f.Add("a <*> b", "a <*><*> c", 3)
	f.Add("user=root core.1 node-2", "user=bob core.3 node-4", 8)
	f.Fuzz(func(t *testing.T, a, b string, maxTokens int) {
		m := NewMiner(MinerConfig{MaxTokens: 2 + abs(maxTokens)%64, MaxClusters: 4})
		for _, l := range []string{a, b, a + " " + b, b, a} {
			got := m.Add(l)
			if got.ID == 0 {
				continue
			}
			tm, ok := m.Template(got.ID)
			if !ok || tm.Text != got.Template {
				t.Fatalf("Add(%q) returned template %d %q, held %v %q", l, got.ID, got.Template, ok, tm.Text)
			}
			if n := strings.Count(got.Template, Wildcard); n != len(got.Params) {
				t.Fatalf("Add(%q): %d wildcards in %q, %d params", l, n, got.Template, len(got.Params))
			}
		}
		snap, _ := m.MarshalBinary()
		var r Miner
		if err := r.UnmarshalBinary(snap); err != nil {
			t.Fatalf("own snapshot rejected: %v", err)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	m := NewMiner(MinerConfig{})
	for _, l := range benchLines(20) {
		m.Add(l)
	}
	snap, _ := m.MarshalBinary()
	f.Add(snap)
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Miner
		if r.UnmarshalBinary(b) == nil {
			r.Add("user alice logged in")
			_ = r.Templates()
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// benchLines is a realistic mix: web access, database, auth, GC and
// stack-ish lines with ids, addresses, sizes and durations.
func benchLines(n int) []string {
	users := []string{"alice", "bob", "carol", "dave"}
	out := make([]string, n)
	for i := range out {
		switch i % 8 {
		case 0:
			out[i] = fmt.Sprintf("GET /api/v1/cart/%d 200 %dms bytes=%d", i, i%300, i*17)
		case 1:
			out[i] = fmt.Sprintf("user %s logged in from 10.%d.%d.%d:%d", users[i%4], i%256, (i/7)%256, (i/3)%256, 1024+i%5000)
		case 2:
			out[i] = fmt.Sprintf("query SELECT * FROM orders WHERE id = %d took %d.%dms rows=%d", i, i%50, i%10, i%9)
		case 3:
			out[i] = fmt.Sprintf("PacketResponder %d for block blk_%d terminating", i%3, int64(i)*7919)
		case 4:
			out[i] = fmt.Sprintf("GC pause %dms heap %dMiB -> %dMiB", i%40, 100+i%50, 80+i%40)
		case 5:
			out[i] = fmt.Sprintf("request %08x-1234-4abc-8def-%012x failed: connection refused to payment:%d", i, i, 8000+i%3)
		case 6:
			out[i] = fmt.Sprintf("Received block blk_%d of size %d from /10.250.%d.%d", int64(i)*104729, 67108864-i, i%256, (i/5)%256)
		default:
			out[i] = fmt.Sprintf("worker-%d heartbeat ok at 2024-05-01T12:%02d:%02dZ", i%16, (i/60)%60, i%60)
		}
	}
	return out
}

func BenchmarkMinerAdd(b *testing.B) {
	lines := benchLines(4096)
	m := NewMiner(MinerConfig{})
	var bytes int64
	for _, l := range lines {
		bytes += int64(len(l))
	}
	b.SetBytes(bytes / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuStart()
	var params []string
	for i := 0; i < b.N; i++ {
		params = m.AddInto(lines[i%len(lines)], params).Params
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkTemplateBytes measures the heap a held template costs.
func BenchmarkTemplateBytes(b *testing.B) {
	const n = 20000
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("component%d stage%d event%d happened in module%c with value 7", i%97, i%89, i, 'a'+i%26)
	}
	b.ReportAllocs()
	var per float64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := NewMiner(MinerConfig{MaxClusters: n, KeepDigitTokens: true})
		for _, l := range lines {
			m.Add(l)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / float64(m.Len())
		runtime.KeepAlive(m)
	}
	b.ReportMetric(per, "bytes/template")
}

// xorshift returns a seeded generator of numbers in [0,k).
func xorshift(seed uint64) func(k int) int {
	return func(k int) int {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(k))
	}
}

// wideLines are lines of 400 templates that share their length and first
// two words, so that they fall in one leaf of the tree, and one template
// whose variable is a plain word of 5,000 values (a user name), so that
// most of its lines are of a shape not seen before.
func wideLines(n int) []string {
	words := []string{"open", "close", "read", "write", "socket", "buffer", "queue", "retry", "timeout", "device",
		"driver", "power", "state", "change", "thread", "memory", "cache", "disk", "error", "warning"}
	out := make([]string, n)
	rnd := xorshift(1)
	for i := range out {
		if i%5 == 0 {
			out[i] = fmt.Sprintf("sshd[%d]: invalid user u%cx%c%c from 10.0.%d.%d", rnd(90000), 'a'+rnd(26), 'a'+rnd(26), 'a'+rnd(26), rnd(256), rnd(256))
			continue
		}
		t := rnd(400)
		out[i] = fmt.Sprintf("kernel[0]: com.vendor.Driver %s %s %s value %d took %dms", words[t%20], words[(t/20)%20], words[(t*7)%20], rnd(1000), rnd(100))
	}
	return out
}

// BenchmarkMinerWideLeaf mines lines that share a leaf of the tree,
// where a miner that scans its candidates pays for each.
func BenchmarkMinerWideLeaf(b *testing.B) {
	lines := wideLines(1 << 16)
	m := NewMiner(MinerConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	var params []string
	for i := 0; i < b.N; i++ {
		params = m.AddInto(lines[i%len(lines)], params).Params
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestMinerParamsRebuildLine mines random lines over a small vocabulary,
// where templates split and join often, and checks that every line is its
// template with its parameters put in the wildcards.
func TestMinerParamsRebuildLine(t *testing.T) {
	words := []string{"open", "close", "user=bob", "user=amy", "a=1,b=2", "id:7", "node-3", "ssh2", "(x)", "{y}", "12ms", "3 KB", "10.0.0.1:80", "'q'", "f(5)", "v1.2", "1,2,3", `{"id":4}`, "/a/{b}", "x@1f2e3d4c", "<*>", "true,"}
	rnd := xorshift(7)
	m := NewMiner(MinerConfig{MaxClusters: 50})
	for range 20000 {
		toks := make([]string, 3+rnd(4))
		for i := range toks {
			toks[i] = words[rnd(len(words))]
			if i < 2 {
				toks[i] = words[rnd(4)]
			}
		}
		line := strings.Join(toks, " ")
		got := m.Add(line)
		parts := strings.Split(got.Template, Wildcard)
		if len(parts)-1 != len(got.Params) {
			t.Fatalf("%q: template %q, params %q", line, got.Template, got.Params)
		}
		var b strings.Builder
		for i, p := range parts {
			b.WriteString(p)
			if i < len(got.Params) {
				b.WriteString(got.Params[i])
			}
		}
		if b.String() != strings.Join(strings.Fields(line), " ") {
			t.Fatalf("%q: template %q with params %q gives %q", line, got.Template, got.Params, b.String())
		}
	}
}
