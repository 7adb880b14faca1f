package logs

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	f := func(tok string, want Kind) {
		t.Helper()
		if got := Classify(tok); got != want {
			t.Errorf("Classify(%q) = %v, want %v", tok, got, want)
		}
	}
	f("", KindNone)
	f("hello", KindNone)
	f("deadbeef", KindNone)
	f("42", KindNumber)
	f("-3.5e10", KindNumber)
	f(".5", KindNumber)
	f("0x7fed806eb5d", KindHex)
	f("6005ab34cd12", KindHex)
	f("10.10.34.11", KindIP)
	f("10.10.34.11:3888", KindIP)
	f("fe80::1", KindIP)
	f("::", KindIP)
	f("[10.1.2.3]:80", KindIP)
	f("[2001:db8::1]:443", KindIP)
	f("2001:0db8:0000:0000:0000:ff00:0042:8329", KindIP)
	f("123e4567-e89b-12d3-a456-426614174000", KindUUID)
	f("/etc/httpd/conf/workers2.properties", KindPath)
	f("/", KindNone)
	f(`C:\Windows\winsxs`, KindPath)
	f("./run.sh", KindPath)
	f("https://example.com/a?b=1", KindURL)
	f("hdfs://node:9000/tmp", KindURL)
	f("12ms", KindDuration)
	f("1.5s", KindDuration)
	f("1h2m3.5s", KindDuration)
	f("10KB", KindSize)
	f("3MiB", KindSize)
	f("512b", KindSize)
	f("2015-10-18", KindTime)
	f("18:01:47,978", KindTime)
	f("2016/9/27:20:30:31.455", KindTime)
	f("2015-10-18T18:01:47.978Z", KindTime)
	f("2005-06-03-15.42.50.675872", KindTime)
	f("blk_-6952295868487656571", KindID)
	f("node-246", KindID)
	f("256.1.1.1", KindTime) // not an address, but still a variable
}

func TestMask(t *testing.T) {
	f := func(line, want string) {
		t.Helper()
		if got := Mask(line); got != want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", line, got, want)
		}
	}
	f("", "")
	f("   ", "")
	f("Accepted password for root from 10.0.0.1 port 22 ssh2", "Accepted password for root from <*> port <*> ssh2")
	f("generating core.1234 on node-246 jetty-6.1.26 BP-1088-10.1.2.3-144", "generating core.<*> on node-<*> jetty-<*> BP-<*>")
	f("blk_-1608999687919862906 attempt_1445_0020_m_000000_0 jk2_init()", "<*> <*> jk2_init()")
	f("loading /bgl/apps/a.out: chdir(/home/x/y) done.", "loading <*>: chdir(<*>) done.")
	f("/10.251.43.21:50010 10.251.43.21:50010:Got from msra-sa-41/10.190.173.170:8020 host-41:8030", "<*> <*> from <*> <*>")
	// A bracket closing one opened inside the value stays in it.
	f("slow request: GET /products/{id} took 312ms", "slow request: GET <*> took <*>")
	f("call f(x) = g(/tmp/a) [/var/x]", "call f(x) = g(<*>) [<*>]")
	// Compound tokens: each part on its own, a list of values as one.
	f(`a=1,b=2 {"id":42,"user":"bob"} t=7,8,9;ok Event@7317849d 1,2,3 18:01:47,978`, `a=<*>,b=<*> {"id":<*>,"user":"bob"} t=<*>;ok Event@<*> <*> <*>`)
	f("rhost=db-1.example.com:5432 uuid 123e4567-e89b-12d3-a456-426614174000 mac 0a:1b:2c:3d:4e:5f", "rhost=<*> uuid <*> mac <*>")
	f("took 1.5s, 3 ms and 1h2m3s; 10KB of 3.5GiB", "took <*>, <*> ms and <*>; <*> of <*>")
	f("mac FF:F2:9F:16:E5:7A is true, #12 100%", "mac <*> is <*>, #<*> <*>")
	f("state change (HWID=3180) took 12ms,", "state change (HWID=<*>) took <*>,")
	f("client [10.1.2.3] said: hello", "client [<*>] said: hello")
	f("onExtend:1514038530000 14", "onExtend:<*> <*>")
	f("size = 3MiB;  at\t/var/log/x.log", "size = <*>; at <*>")
	f("uid=0 user=alice", "uid=<*> user=alice")
}

func TestMaskKeepsParamsRecoverable(t *testing.T) {
	m := NewMiner(MinerConfig{})
	got := m.Add("connect to [10.1.2.3]:80 took 12ms")
	want := []string{"[10.1.2.3]:80", "12ms"}
	if strings.Join(got.Params, "|") != strings.Join(want, "|") {
		t.Errorf("params %q, want %q (template %q)", got.Params, want, got.Template)
	}
	m.Add(`saved the record {"id":42,"user":"bob"} to the store`)
	got = m.Add(`saved the record {"id":43,"user":"alice"} to the store`)
	if got.Template != `saved the record {"id":<*>,"user":"<*>"} to the store` || strings.Join(got.Params, "|") != "43|alice" {
		t.Errorf("got %q %q", got.Template, got.Params)
	}
	got = m.Add("state (HWID=3180) ok")
	if len(got.Params) != 1 || got.Params[0] != "3180" || got.Template != "state (HWID=<*>) ok" {
		t.Errorf("got %q %q", got.Template, got.Params)
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "a b", "10.0.0.1:80", "[::1]:8080", "0x1f", "1h2m", "(HWID=3)", "\xff\xfe", "key=", "=1", "a:1", "[", "]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Classify(s)
		class, pre, suf := maskToken(s, MinerConfig{}.rules())
		if class == maskedTok && (pre < 0 || suf < 0 || pre+suf > len(s)) {
			t.Fatalf("maskToken(%q) = %v %d %d", s, class, pre, suf)
		}
		out := Mask(s)
		if strings.ContainsAny(out, "\t\n") {
			t.Fatalf("Mask(%q) = %q keeps white space", s, out)
		}
	})
}
