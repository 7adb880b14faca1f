package logs

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormatSplit(t *testing.T) {
	f := func(spec, line string, want ...string) {
		t.Helper()
		fm, err := ParseFormat(spec)
		if err != nil {
			t.Fatalf("ParseFormat(%q): %v", spec, err)
		}
		got, ok := fm.Split(line, nil)
		if want == nil {
			if ok {
				t.Errorf("Split(%q) = %q, want no match", line, got)
			}
			return
		}
		if !ok || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Split(%q) = %q %v, want %q", line, got, ok, want)
		}
	}
	f(`<Date> <Time> <Level> <Component>: <Content>`, "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
		"17/06/09", "20:10:40", "INFO", "spark.SecurityManager", "Changing view acls to: yarn,curi")
	f(`\[<Time>\] \[<Level>\] <Content>`, "[Sun Dec 04 04:47:44 2005] [error] mod_jk child in error state 6",
		"Sun Dec 04 04:47:44 2005", "error", "mod_jk child in error state 6")
	f(`<Time>\|<Component>\|<Pid>\|<Content>`, "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
		"20171223-22:15:29:606", "Step_LSC", "30002312", "onStandStepChanged 3579")
	f(`<Date> <Time>, <Level>      <Component>    <Content>`, "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack",
		"2016-09-28", "04:30:30", "Info", "CBS", "Loaded Servicing Stack")
	f(`<Level> <Content> end`, "INFO all done end", "INFO", "all done")
	f(`<Level> <Content>`, "INFO")
	f(`\[<Level>\] <Content>`, "INFO x")
}

func TestParseFormatErrors(t *testing.T) {
	for _, spec := range []string{"", "no fields", "<Date> <Date> <Content>", "<Level", "<> <Content>", "<Level> msg"} {
		if _, err := ParseFormat(spec); err == nil {
			t.Errorf("ParseFormat(%q) accepted", spec)
		}
	}
}

// TestFormatLoghub splits each raw loghub sample by its layout from
// formats.tsv and checks the message against the structured Content column.
func TestFormatLoghub(t *testing.T) {
	tsv, err := os.ReadFile(filepath.Join(loghubDir, "formats.tsv"))
	if err != nil {
		t.Skipf("loghub 2k samples not found at %s (shared/data/loghub2k): %v", loghubDir, err)
	}
	for _, row := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		ds, spec, _ := strings.Cut(row, "\t")
		fm, err := ParseFormat(spec)
		if err != nil {
			t.Errorf("%s: %v", ds, err)
			continue
		}
		contents, _ := readLoghub(t, ds)
		raw, err := os.Open(filepath.Join(loghubDir, ds, ds+"_2k.log"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(raw)
		i, same := 0, 0
		var fields []string
		for sc.Scan() && i < len(contents) {
			var ok bool
			fields, ok = fm.Split(strings.TrimSpace(sc.Text()), fields)
			if ok && strings.TrimSpace(fields[fm.Content()]) == strings.TrimSpace(contents[i]) {
				same++
			}
			i++
		}
		raw.Close()
		if same < len(contents)*99/100 {
			t.Errorf("%s: %d of %d messages as in the structured file", ds, same, len(contents))
		}
	}
}

func FuzzFormat(f *testing.F) {
	f.Add(`<Date> <Time>, <Level>  \[<Component>\] <Content>`, "2016-09-28 04:30:30, Info [CBS] Loaded")
	f.Add(`<A><B>|<Content>`, "x|y")
	f.Add(`\s<Content>\`, "  z")
	f.Fuzz(func(t *testing.T, spec, line string) {
		fm, err := ParseFormat(spec)
		if err != nil {
			return
		}
		got, ok := fm.Split(line, nil)
		if ok && len(got) != len(fm.Names()) {
			t.Fatalf("Split(%q) by %q gave %d fields for %d names", line, spec, len(got), len(fm.Names()))
		}
	})
}
