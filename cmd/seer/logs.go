package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/eval/loghub"
)

const logsUsage = `usage: seer logs parse [FILE|-] [--format '<Date> <Time> <Level> <Component>: <Content>'] [--json] [--workers N] [--multiline RULE]
       seer logs gen --data DIR [--lines N] [--seed S] [--out FILE]

parse mines log templates online from FILE (or standard input) and prints,
per line, the template id and template; with --json one object per line and
a final summary object. The template table goes to standard error in text
mode. With more than one worker (the default when GOMAXPROCS > 1) lines
are mined on as many cores, sharded by their count of tokens, which keeps
the templates those of one miner; only the ids differ. With --multiline
the lines a rule says continue a record (a stack trace's) join it, and a
record's number is its first line's.

gen writes a large test input: N lines mixing the Loghub samples in DIR
(one folder per dataset), the digits of their variables drawn again, each
with a header in the layout '` + loghub.MixFormat + `'; the count of true
templates goes to standard error.
`

// runLogs runs `seer logs ...`; args start after "logs".
func runLogs(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "gen" {
		return runLogsGen(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "parse" {
		fmt.Fprint(stderr, logsUsage)
		if len(args) == 0 {
			return errors.New("logs: missing subcommand (want: parse or gen)")
		}
		return fmt.Errorf("logs: unknown subcommand %q (want: parse or gen)", args[0])
	}
	fs := flag.NewFlagSet("seer logs parse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage); fs.PrintDefaults() }
	format := fs.String("format", "", "header layout, as in loghub's formats.tsv; the <Content> field is mined")
	asJSON := fs.Bool("json", false, "print one JSON object per line and a final summary")
	maxTemplates := fs.Int("max-templates", 0, "templates to keep before evicting the least recent (0: the default); with several workers, in each of their shards")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "cores to mine on")
	multiline := fs.String("multiline", "", "which lines continue a record (a stack trace): "+logs.ContinuationHelp)
	// Flags may follow the file name: parse again after each positional.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("logs parse: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) > 1 {
		return fmt.Errorf("logs parse: one input at most, got %q", files)
	}
	var fm *logs.Format
	if *format != "" {
		var err error
		if fm, err = logs.ParseFormat(*format); err != nil {
			return fmt.Errorf("logs parse --format: %w", err)
		}
	}
	cfg := logs.MinerConfig{MaxClusters: *maxTemplates}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("logs parse: %w", err)
	}
	in := stdin
	if len(files) == 1 && files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return fmt.Errorf("logs parse: opening the input: %w", err)
		}
		defer f.Close()
		in = f
	}
	p := &logParser{format: fm, json: *asJSON, out: bufio.NewWriterSize(stdout, 256<<10)}
	cont, err := logs.ParseContinuation(*multiline, fm)
	if err != nil {
		return fmt.Errorf("logs parse --multiline: %w", err)
	}
	if cont != nil {
		p.join = &joiner{Joiner: logs.NewJoiner(cont)}
	}
	var templates func() []logs.Template
	if *workers > 1 {
		s := newShardedParse(p, cfg, min(*workers, 64))
		if err := s.run(ctx, in); err != nil {
			p.out.Flush()
			return err
		}
		templates = s.templates
	} else {
		p.miner = logs.NewMiner(cfg)
		if err := p.run(ctx, in); err != nil {
			p.out.Flush()
			return err
		}
		templates = p.miner.Templates
	}
	if err := p.finish(stderr, templates()); err != nil {
		return fmt.Errorf("logs parse: writing the output: %w", err)
	}
	return nil
}

// runLogsGen runs `seer logs gen`; args start after "gen".
func runLogsGen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer logs gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the loghub 2k directory (one folder per dataset)")
	n := fs.Int("lines", 200_000, "lines to write")
	seed := fs.Uint64("seed", 1, "the random seed; the same seed writes the same file")
	out := fs.String("out", "", "the file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("logs gen: %w", err)
	}
	if *dir == "" || fs.NArg() > 0 || *n < 0 {
		fs.Usage()
		return errors.New("logs gen: give --data DIR, a line count ≥ 0 and nothing else")
	}
	sets, err := loghub.Load(*dir)
	if err != nil {
		return fmt.Errorf("logs gen: %w", err)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("logs gen: creating the output: %w", err)
		}
		defer f.Close()
		w = f
	}
	st, err := loghub.Mix(w, sets, *n, *seed)
	if err != nil {
		return fmt.Errorf("logs gen: %w", err)
	}
	if f, ok := w.(*os.File); ok && f != stdout {
		if err := f.Close(); err != nil {
			return fmt.Errorf("logs gen: writing the output: %w", err)
		}
	}
	fmt.Fprintf(stderr, "%d lines, %d bytes, %d true templates, %d messages unaligned with their template\n", st.Lines, st.Bytes, st.Templates, st.Unaligned)
	return nil
}

// logParser holds the state of one `seer logs parse` run.
type logParser struct {
	miner   *logs.Miner
	format  *logs.Format
	json    bool
	out     *bufio.Writer
	buf     []byte
	fields  []string
	params  []string
	lines   int64
	skipped int64
	// join is set when records span lines.
	join *joiner
}

func (p *logParser) run(ctx context.Context, in io.Reader) error {
	return p.scan(ctx, in, p.line)
}

// scan reads in and hands each record to emit, numbered by its first line:
// each line, or with a continuation rule the lines it joins.
func (p *logParser) scan(ctx context.Context, in io.Reader, emit func([]byte, int64)) error {
	r := bufio.NewReaderSize(in, 1<<20)
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it.
			long = append(long, chunk...)
			continue
		}
		if len(long) > 0 {
			chunk = append(long, chunk...)
			long = long[:0]
		}
		if len(chunk) > 0 {
			p.lines++
			if p.join != nil {
				p.join.push(trimEOL(chunk), p.lines, emit)
			} else {
				emit(trimEOL(chunk), p.lines)
			}
			if p.lines&4095 == 0 {
				if cerr := ctx.Err(); cerr != nil {
					return fmt.Errorf("logs parse: %w", cerr)
				}
			}
		}
		if err == io.EOF {
			if p.join != nil {
				p.join.flush(emit)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("logs parse: reading the input: %w", err)
		}
	}
}

// trimEOL cuts a line's end-of-line bytes.
func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// joiner numbers the records a logs.Joiner gathers by their first lines.
type joiner struct {
	*logs.Joiner
	no int64
}

// push takes line number no. When the line starts a record, the record
// gathered so far goes to emit, its bytes valid until emit returns.
func (j *joiner) push(line []byte, no int64, emit func([]byte, int64)) {
	var l string
	if len(line) > 0 {
		l = unsafe.String(&line[0], len(line))
	}
	if !j.Add(l, func(rec []byte) { emit(rec, j.no) }) {
		j.no = no
	}
}

// flush hands on the record gathered so far.
func (j *joiner) flush(emit func([]byte, int64)) {
	j.Flush(func(rec []byte) { emit(rec, j.no) })
}

// line mines one record, line number no (its first line's).
func (p *logParser) line(b []byte, no int64) {
	// The line aliases the read buffer rather than copying it: the miner
	// keeps copies of what it holds, and the line's fields and parameters
	// are written out before the buffer is read into again.
	var line string
	if len(b) > 0 {
		line = unsafe.String(&b[0], len(b))
	}
	content := line
	if p.format != nil {
		var ok bool
		p.fields, ok = p.format.Split(strings.TrimSpace(line), p.fields)
		if !ok {
			p.skipped++
			return
		}
		content = p.fields[p.format.Content()]
	}
	m := p.miner.AddInto(content, p.params)
	p.params = m.Params
	if m.ID == 0 {
		p.skipped++
		return
	}
	o := appendRecord(p.buf[:0], no, m, p.format, p.fields, p.json)
	p.out.Write(o)
	p.buf = o
}

// appendRecord appends the output of line number no: its template id and
// template, or with asJSON the JSON object of them, its parameters and its
// header fields.
func appendRecord(o []byte, no int64, m logs.Match, f *logs.Format, fields []string, asJSON bool) []byte {
	if !asJSON {
		o = strconv.AppendUint(o, m.ID, 10)
		o = append(o, '\t')
		o = append(o, m.Template...)
		return append(o, '\n')
	}
	o = append(o, `{"line":`...)
	o = strconv.AppendInt(o, no, 10)
	o = append(o, `,"template_id":`...)
	o = strconv.AppendUint(o, m.ID, 10)
	o = append(o, `,"template":`...)
	o = appendJSONString(o, m.Template)
	o = append(o, `,"params":[`...)
	for i, s := range m.Params {
		if i > 0 {
			o = append(o, ',')
		}
		o = appendJSONString(o, s)
	}
	o = append(o, ']')
	if f != nil {
		o = append(o, `,"header":{`...)
		first := true
		for i, name := range f.Names() {
			if i == f.Content() {
				continue
			}
			if !first {
				o = append(o, ',')
			}
			first = false
			o = appendJSONString(o, name)
			o = append(o, ':')
			o = appendJSONString(o, fields[i])
		}
		o = append(o, '}')
	}
	return append(o, "}\n"...)
}

// finish writes the template table and flushes.
func (p *logParser) finish(stderr io.Writer, ts []logs.Template) error {
	if p.json {
		o := append(p.buf[:0], `{"templates":[`...)
		for i, t := range ts {
			if i > 0 {
				o = append(o, ',')
			}
			o = append(o, `{"id":`...)
			o = strconv.AppendUint(o, t.ID, 10)
			o = append(o, `,"count":`...)
			o = strconv.AppendInt(o, t.Count, 10)
			o = append(o, `,"template":`...)
			o = appendJSONString(o, t.Text)
			o = append(o, '}')
			if len(o) > 64<<10 {
				p.out.Write(o)
				o = o[:0]
			}
		}
		o = append(o, `],"lines":`...)
		o = strconv.AppendInt(o, p.lines, 10)
		o = append(o, `,"skipped":`...)
		o = strconv.AppendInt(o, p.skipped, 10)
		o = append(o, "}\n"...)
		p.out.Write(o)
		return p.out.Flush()
	}
	if err := p.out.Flush(); err != nil {
		return err
	}
	w := bufio.NewWriter(stderr)
	fmt.Fprintf(w, "%d lines, %d skipped, %d templates\nid\tcount\ttemplate\n", p.lines, p.skipped, len(ts))
	for _, t := range ts {
		fmt.Fprintf(w, "%d\t%d\t%s\n", t.ID, t.Count, t.Text)
	}
	return w.Flush()
}

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
