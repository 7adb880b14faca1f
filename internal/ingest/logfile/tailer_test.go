package logfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/signal"
)

type recorder struct{ logs []signal.LogRecord }

func (r *recorder) Ingest(_ context.Context, b *signal.Batch) error {
	r.logs = append(r.logs, b.Logs...)
	return nil
}

func (r *recorder) bodies() string {
	var s []string
	for _, l := range r.logs {
		s = append(s, l.Body)
	}
	r.logs = nil
	return strings.Join(s, "|")
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func newTailer(t *testing.T, cfg Config) (*Tailer, *recorder) {
	t.Helper()
	rec := &recorder{}
	tl, err := New(cfg, rec, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	return tl, rec
}

func TestFollowRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	appendTo(t, path, "old line before start\n")
	cfg := DefaultConfig()
	cfg.Files = []File{{Path: path, Entity: "cart"}}
	tl, rec := newTailer(t, cfg)
	ctx := t.Context()
	poll := func(want string) {
		t.Helper()
		if err := tl.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.bodies(); got != want {
			t.Fatalf("read %q; want %q", got, want)
		}
	}
	poll("") // starts at the end
	appendTo(t, path, "a\nb\npart")
	poll("a|b")
	appendTo(t, path, "ial\n")
	poll("partial")
	// Rename rotation: the old file gets one more line, then a new file
	// takes the name.
	appendTo(t, path, "last of old\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path+".1", "written late\n")
	appendTo(t, path, "first of new\n")
	poll("last of old|written late|first of new")
	// Truncation in place.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "after\n")
	poll("after")
	// The file disappears, then comes back.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	poll("")
	appendTo(t, path, "back\n")
	poll("back")
}

func TestFormat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := DefaultConfig()
	cfg.FromStart = true
	cfg.Files = []File{{Path: path, Entity: "hdfs", Format: "<Date> <Time> <Level> <Component>: <Content>"}}
	appendTo(t, path, "2024-03-01 10:00:00,123 WARN dfs.DataNode: slow block receiver\n"+
		"not in the format ERROR at all\n"+
		"plain line\n")
	tl, rec := newTailer(t, cfg)
	if err := tl.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rec.logs) != 3 {
		t.Fatalf("%d records; want 3", len(rec.logs))
	}
	l := rec.logs[0]
	want := time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.Local)
	if l.Entity != "hdfs" || l.Body != "slow block receiver" || l.Severity != signal.SeverityWarn ||
		!l.Time.Equal(want) || l.Attrs["Component"] != "dfs.DataNode" {
		t.Errorf("record %+v", l)
	}
	if rec.logs[1].Severity != signal.SeverityError || rec.logs[1].Body != "not in the format ERROR at all" {
		t.Errorf("unformatted record %+v", rec.logs[1])
	}
	if rec.logs[2].Severity != signal.SeverityInfo {
		t.Errorf("plain record %+v", rec.logs[2])
	}
}

func TestLongLineCut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := DefaultConfig()
	cfg.FromStart, cfg.MaxLineBytes = true, 64
	cfg.Files = []File{{Path: path, Entity: "x"}}
	appendTo(t, path, strings.Repeat("x", 200_000)+"\nshort\n")
	tl, rec := newTailer(t, cfg)
	if err := tl.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rec.bodies(); got != strings.Repeat("x", 64)+"|short" {
		t.Errorf("got %d bytes", len(got))
	}
}

func TestValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Files = []File{{Path: "", Entity: ""}, {Path: "x", Entity: "y", Format: "<Content"}}
	cfg.Poll = 0
	err := cfg.Validate()
	for _, w := range []string{"files[0].path", "files[0].entity", "files[1].format", "tail.poll"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v; want it to mention %s", err, w)
		}
	}
}

func BenchmarkTail(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := DefaultConfig()
	cfg.FromStart = true
	cfg.Files = []File{{Path: path, Entity: "hdfs", Format: "<Date> <Time> <Level> <Component>: <Content>"}}
	var sb strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&sb, "2024-03-01 10:00:00,123 INFO dfs.DataNode: received block blk_%d of size 67108864 from /10.0.0.%d\n", i, i%250)
	}
	chunk := sb.String()
	rec := &counting{}
	tl, err := New(cfg, rec, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tl.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		_, _ = f.WriteString(chunk)
		f.Close()
		if err := tl.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rec.n)/b.Elapsed().Seconds(), "lines/s")
}

type counting struct{ n int }

func (c *counting) Ingest(_ context.Context, b *signal.Batch) error {
	c.n += len(b.Logs)
	return nil
}

// FuzzRecord parses arbitrary lines with and without a format: no panic,
// and the body is never lost.
func FuzzRecord(f *testing.F) {
	f.Add("2024-03-01 10:00:00,123 WARN dfs.DataNode: slow block receiver")
	f.Add("level=error msg=boom")
	cfg := DefaultConfig()
	cfg.Files = []File{{Path: "a", Entity: "x", Format: "<Date> <Time> <Level> <Component>: <Content>"}, {Path: "b", Entity: "y"}}
	tl, err := New(cfg, &counting{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, fl := range tl.files {
			rec := tl.record(fl, line)
			if rec.Body == "" && strings.TrimSpace(line) != "" && fl.format == nil {
				t.Fatalf("lost the body of %q", line)
			}
		}
	})
}

// TestMultiline checks that a stack trace joins its message, within a poll
// and across polls, and that a record waits for its next line one poll.
func TestMultiline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := DefaultConfig()
	cfg.FromStart = true
	cfg.Files = []File{{Path: path, Entity: "shop", Format: `<Date> <Time> <Level> \[<Component>\] <Content>`, Multiline: "unformatted"}}
	tl, rec := newTailer(t, cfg)
	poll := func(want string) {
		t.Helper()
		if err := tl.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := rec.bodies(); got != want {
			t.Fatalf("read %q; want %q", got, want)
		}
	}
	appendTo(t, path, "2024-05-01 10:00:01 ERROR [web] request 2 failed\n"+
		"java.lang.IllegalStateException: no stock\n"+
		"\tat com.shop.Cart.add(Cart.java:42)\n")
	poll("")
	appendTo(t, path, "Caused by: java.io.IOException: reset\n\t... 2 more\n"+
		"2024-05-01 10:00:02 INFO [web] request 3 served\n")
	poll("request 2 failed\njava.lang.IllegalStateException: no stock\n\tat com.shop.Cart.add(Cart.java:42)\nCaused by: java.io.IOException: reset\n\t... 2 more")
	poll("request 3 served")
	cfg.Files[0].Multiline = "sometimes"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "multiline") {
		t.Errorf("bad rule: %v", err)
	}
}
