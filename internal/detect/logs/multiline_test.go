package logs

import (
	"strings"
	"testing"
)

func TestJoiner(t *testing.T) {
	f, err := ParseFormat(`<Date> <Time> <Level> \[<Component>\] <Content>`)
	if err != nil {
		t.Fatal(err)
	}
	in := []string{
		"2024-05-01 10:00:00 INFO [web] started",
		"2024-05-01 10:00:01 ERROR [web] failed",
		"java.lang.IllegalStateException: boom",
		"\tat a.B.c(B.java:1)",
		"Caused by: java.io.IOException: reset",
		"",
		"2024-05-01 10:00:02 INFO [web] done",
	}
	join := func(spec string) string {
		t.Helper()
		c, err := ParseContinuation(spec, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		emit := func(rec []byte) { out = append(out, strings.ReplaceAll(string(rec), "\n", "|")) }
		j := NewJoiner(c)
		for _, l := range in {
			j.Add(l, emit)
		}
		j.Flush(emit)
		return strings.Join(out, " / ")
	}
	f2 := func(spec, want string) {
		t.Helper()
		if got := join(spec); got != want {
			t.Errorf("%s:\n got %s\nwant %s", spec, got, want)
		}
	}
	f2("unformatted", "2024-05-01 10:00:00 INFO [web] started / 2024-05-01 10:00:01 ERROR [web] failed|java.lang.IllegalStateException: boom|\tat a.B.c(B.java:1)|Caused by: java.io.IOException: reset /  / 2024-05-01 10:00:02 INFO [web] done")
	f2("indent", "2024-05-01 10:00:00 INFO [web] started / 2024-05-01 10:00:01 ERROR [web] failed / java.lang.IllegalStateException: boom|\tat a.B.c(B.java:1) / Caused by: java.io.IOException: reset /  / 2024-05-01 10:00:02 INFO [web] done")
	f2(`start=^\d{4}-`, "2024-05-01 10:00:00 INFO [web] started / 2024-05-01 10:00:01 ERROR [web] failed|java.lang.IllegalStateException: boom|\tat a.B.c(B.java:1)|Caused by: java.io.IOException: reset /  / 2024-05-01 10:00:02 INFO [web] done")

	if c, err := ParseContinuation("", nil); c != nil || err != nil {
		t.Errorf("empty rule: %v %v", c, err)
	}
	for _, bad := range []string{"unformatted", "start=(", "sometimes"} {
		if _, err := ParseContinuation(bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzJoiner checks that records are the lines, in order, cut between
// lines only.
func FuzzJoiner(f *testing.F) {
	f.Add("2024-05-01 10:00:01 ERROR [web] failed\n\tat x\nCaused by: y\n\n2024 z", "indent")
	f.Add("a\n b\nc", `start=^\S`)
	f.Fuzz(func(t *testing.T, in, spec string) {
		fm, _ := ParseFormat(`<Date> <Time> <Level> \[<Component>\] <Content>`)
		c, err := ParseContinuation(spec, fm)
		if err != nil || c == nil {
			return
		}
		var recs []string
		emit := func(rec []byte) { recs = append(recs, string(rec)) }
		j := NewJoiner(c)
		lines := strings.Split(in, "\n")
		for _, l := range lines {
			j.Add(l, emit)
		}
		j.Flush(emit)
		if got := strings.Join(recs, "\n"); got != in {
			t.Fatalf("records %q of %q", recs, in)
		}
	})
}
