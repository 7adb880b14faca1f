package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/eval/loghub"
)

func TestRunLogsText(t *testing.T) {
	in := "user alice logged in from 10.0.0.1\n\nuser alice logged in from 10.0.0.2\r\ndisk full on /dev/sda1"
	var out, errb bytes.Buffer
	if err := runLogs(context.Background(), []string{"parse", "-", "--workers", "1"}, strings.NewReader(in), &out, &errb); err != nil {
		t.Fatal(err)
	}
	want := "1\tuser alice logged in from <*>\n1\tuser alice logged in from <*>\n2\tdisk full on <*>\n"
	if out.String() != want {
		t.Errorf("stdout\n%s\nwant\n%s", out.String(), want)
	}
	if !strings.Contains(errb.String(), "4 lines, 1 skipped, 2 templates") || !strings.Contains(errb.String(), "1\t2\tuser alice logged in from <*>") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestRunLogsJSON(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.log")
	lines := "2024-05-01 10:00:00 INFO [db] query took 12ms\n2024-05-01 10:00:01 WARN [db] query took 900ms\nnot a header line\n\"odd\" \xff\n"
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// Flags after the file name, too.
	err := runLogs(context.Background(), []string{"parse", file, "--format", `<Date> <Time> <Level> \[<Component>\] <Content>`, "--json", "--workers", "1"}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("%v (stderr %s)", err, errb.String())
	}
	sc := bufio.NewScanner(&out)
	var recs []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d objects, want 2 lines and a summary: %v", len(recs), recs)
	}
	got := fmt.Sprint(recs[1])
	want := "map[header:map[Component:db Date:2024-05-01 Level:WARN Time:10:00:01] line:2 params:[900ms] template:query took <*> template_id:1]"
	if got != want {
		t.Errorf("line 2:\n got %s\nwant %s", got, want)
	}
	sum := fmt.Sprint(recs[2])
	if sum != "map[lines:4 skipped:2 templates:[map[count:2 id:1 template:query took <*>]]]" {
		t.Errorf("summary %s", sum)
	}
}

func TestRunLogsErrors(t *testing.T) {
	f := func(args []string, want string) {
		t.Helper()
		err := runLogs(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("runLogs(%q) = %v, want an error with %q", args, err, want)
		}
	}
	f(nil, "missing subcommand")
	f([]string{"mine"}, "unknown subcommand")
	f([]string{"parse", "--format", "<Date> <Time>"}, "Content")
	f([]string{"parse", "a", "b"}, "one input")
	f([]string{"parse", "/nonexistent/x.log"}, "opening the input")
	f([]string{"parse", "--bogus"}, "bogus")
}

func TestRunLogsLongLine(t *testing.T) {
	in := strings.Repeat("x ", 3<<20) + "\nshort line\n"
	for _, w := range []string{"1", "3"} {
		var out bytes.Buffer
		if err := runLogs(context.Background(), []string{"parse", "--workers", w}, strings.NewReader(in), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n != 2 {
			t.Errorf("workers %s: %d output lines, want 2", w, n)
		}
	}
}

// TestRunLogsWorkers checks that mining on several cores finds for every
// line the template one miner finds, in order, and the same summary.
func TestRunLogsWorkers(t *testing.T) {
	var in strings.Builder
	for i := range 30000 {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&in, "2024-05-01 10:00:%02d INFO [web] GET /api/cart/%d 200 %dms\n", i%60, i, i%300)
		case 1:
			fmt.Fprintf(&in, "2024-05-01 10:00:%02d WARN [db] query on orders took %dms rows=%d by user%d\n", i%60, i%900, i%7, i%13)
		case 2:
			in.WriteString("not a header line\n\n")
		case 3:
			fmt.Fprintf(&in, "2024-05-01 10:00:%02d INFO [auth] session %d of client c%d opened\n", i%60, i, i%5)
		default:
			fmt.Fprintf(&in, "2024-05-01 10:00:%02d ERROR [pay] payment %x failed: code=%d\n", i%60, i*7919, i%3)
		}
	}
	run := func(workers string) (lines []string, summary string) {
		var out, errb bytes.Buffer
		args := []string{"parse", "--format", `<Date> <Time> <Level> \[<Component>\] <Content>`, "--json", "--workers", workers}
		if err := runLogs(context.Background(), args, strings.NewReader(in.String()), &out, &errb); err != nil {
			t.Fatal(err)
		}
		all := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for _, l := range all[:len(all)-1] {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(m["line"], m["template"], m["params"], m["header"]))
		}
		var sum struct {
			Templates []struct {
				Count    int
				Template string
			}
			Lines, Skipped int
		}
		if err := json.Unmarshal([]byte(all[len(all)-1]), &sum); err != nil {
			t.Fatal(err)
		}
		ts := make([]string, 0, len(sum.Templates))
		for _, x := range sum.Templates {
			ts = append(ts, fmt.Sprint(x.Count, x.Template))
		}
		slices.Sort(ts)
		return lines, fmt.Sprint(sum.Lines, sum.Skipped, ts)
	}
	l1, s1 := run("1")
	l3, s3 := run("3")
	if s1 != s3 {
		t.Errorf("summaries differ:\n1: %s\n3: %s", s1, s3)
	}
	if len(l1) != len(l3) {
		t.Fatalf("%d and %d lines", len(l1), len(l3))
	}
	for i := range l1 {
		if l1[i] != l3[i] {
			t.Fatalf("line %d:\n1: %s\n3: %s", i, l1[i], l3[i])
		}
	}
}

// javaLog is a log with two stack traces.
const javaLog = `2024-05-01 10:00:00 INFO [web] request 1 served in 3ms
2024-05-01 10:00:01 ERROR [web] request 2 failed
java.lang.IllegalStateException: no stock for item 17
	at com.shop.Cart.add(Cart.java:42)
	at com.shop.Web.handle(Web.java:10)
Caused by: java.io.IOException: connection reset
	at com.shop.Db.query(Db.java:7)
	... 2 more
2024-05-01 10:00:02 INFO [web] request 3 served in 5ms
2024-05-01 10:00:03 ERROR [web] request 4 failed
java.lang.IllegalStateException: no stock for item 99
	at com.shop.Cart.add(Cart.java:42)
	at com.shop.Web.handle(Web.java:10)
Caused by: java.io.IOException: connection reset
	at com.shop.Db.query(Db.java:7)
	... 2 more
`

func TestRunLogsMultiline(t *testing.T) {
	for _, w := range []string{"1", "2"} {
		var out, errb bytes.Buffer
		args := []string{"parse", "--workers", w, "--json", "--multiline", "unformatted", "--format", `<Date> <Time> <Level> \[<Component>\] <Content>`}
		if err := runLogs(context.Background(), args, strings.NewReader(javaLog), &out, &errb); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			if m["line"] != nil {
				got = append(got, fmt.Sprint(m["line"], " ", m["template"]))
			} else if m["lines"] != 16.0 || m["skipped"] != 0.0 {
				t.Errorf("workers %s: summary %v", w, m)
			}
		}
		trace := "request <*> failed java.lang.IllegalStateException: no stock for item <*> at com.shop.Cart.add(Cart.java:42) at com.shop.Web.handle(Web.java:10) Caused by: java.io.IOException: connection reset at com.shop.Db.query(Db.java:7) ... <*> more"
		want := []string{"1 request <*> served in <*>", "2 " + trace, "9 request <*> served in <*>", "10 " + trace}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("workers %s:\n%s\nwant\n%s", w, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if err := runLogs(context.Background(), []string{"parse", "--multiline", "unformatted"}, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Error("unformatted without a format accepted")
	}
}

func TestRunLogsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := strings.Repeat("GET /a 200 3ms\n", 10000)
	if err := runLogs(ctx, []string{"parse"}, strings.NewReader(in), io.Discard, io.Discard); err == nil {
		t.Error("cancelled run succeeded")
	}
}

// BenchmarkRunLogs parses a file end to end, header format and all.
func BenchmarkRunLogs(b *testing.B) {
	const n = 200000
	file := filepath.Join(b.TempDir(), "bench.log")
	var buf bytes.Buffer
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&buf, "2024-05-01 10:%02d:%02d INFO [web] GET /api/cart/%d 200 %dms\n", i/60%60, i%60, i, i%300)
		case 1:
			fmt.Fprintf(&buf, "2024-05-01 10:%02d:%02d WARN [db] query on orders took %dms rows=%d\n", i/60%60, i%60, i%900, i%7)
		case 2:
			fmt.Fprintf(&buf, "2024-05-01 10:%02d:%02d INFO [auth] user u%d logged in from 10.1.%d.%d\n", i/60%60, i%60, i%100, i%256, i/256%256)
		default:
			fmt.Fprintf(&buf, "2024-05-01 10:%02d:%02d ERROR [pay] payment %x failed: connection refused\n", i/60%60, i%60, i*7919)
		}
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := runLogs(context.Background(), []string{"parse", file, "--format", `<Date> <Time> <Level> \[<Component>\] <Content>`, "--workers", "1"}, nil, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func TestRunEvalLoghub(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "Tiny")
	if err := os.Mkdir(ds, 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "LineId,Content,EventId,EventTemplate\n" +
		"1,user alice logged in from 10.0.0.1,E1,user alice logged in from <*>\n" +
		"2,user alice logged in from 10.0.0.2:22,E1,user alice logged in from <*>:<*>\n" +
		"3,disk full on /dev/sda1,E2,disk full on <*>\n"
	if err := os.WriteFile(filepath.Join(ds, "Tiny_2k.log_structured_corrected.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runEvalLoghub(context.Background(), []string{"--data", dir, "--json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := `{"datasets":{"Tiny":{"GA":1,"PA":1,"FGA":1,"FTA":1}},"average":{"GA":1,"PA":1,"FGA":1,"FTA":1}}` + "\n"
	if out.String() != want {
		t.Errorf("got %s want %s", out.String(), want)
	}
	out.Reset()
	if err := runEvalLoghub(context.Background(), []string{"--data", dir}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "average") {
		t.Errorf("text output %q %v", out.String(), err)
	}
	for _, args := range [][]string{nil, {"--data", t.TempDir()}, {"--data", dir, "extra"}} {
		if err := runEvalLoghub(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("runEvalLoghub(%q) succeeded", args)
		}
	}
}

// BenchmarkRunLogsMix parses the 200,000-line mix of the shared Loghub
// samples end to end (seer logs gen), on one core and on every core.
func BenchmarkRunLogsMix(b *testing.B) {
	const dir = "../../../shared/data/loghub2k"
	sets, err := loghub.Load(dir)
	if err != nil {
		b.Skipf("loghub 2k samples not found at %s: %v", dir, err)
	}
	file := filepath.Join(b.TempDir(), "mix.log")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	st, err := loghub.Mix(f, sets, 200_000, 1)
	if cerr := f.Close(); err != nil || cerr != nil {
		b.Fatal(err, cerr)
	}
	for _, w := range []string{"1", strconv.Itoa(runtime.GOMAXPROCS(0))} {
		b.Run("workers="+w, func(b *testing.B) {
			b.SetBytes(int64(st.Bytes))
			b.ReportAllocs()
			for b.Loop() {
				err := runLogs(context.Background(), []string{"parse", file, "--format", loghub.MixFormat, "--workers", w}, nil, io.Discard, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(st.Lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
