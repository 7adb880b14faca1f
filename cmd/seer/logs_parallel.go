package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/seerops/seer/internal/detect/logs"
)

// shardedParse mines one stream on several cores. Lines are read in
// batches; each goes to the miner of its shard, its message's count of
// tokens modulo the workers: the miner's tree is rooted at that count, so
// lines that could share a template always meet in the same miner, and
// the templates are those one miner would find. Each worker mines and
// formats the lines of its shard; the batches are written in input order.
type shardedParse struct {
	p       *logParser
	miners  []*logs.Miner
	maxToks int
	skipped []int64 // by worker, read once the workers are done
}

// batchBytes is about how much input one batch holds.
const batchBytes = 1 << 20

// pbatch is a run of input lines and their output.
type pbatch struct {
	buf    []byte
	lines  []pline
	fields []string
	outs   [][]byte // by worker
	wg     sync.WaitGroup
}

// pline is one line of a batch.
type pline struct {
	no      int64
	content string
	// field is the index in the batch's fields of the line's first.
	field int32
	// shard is the worker that mines the line, -1 when it was skipped.
	shard int32
	// end is where the line's output ends in its worker's.
	end int32
}

func newShardedParse(p *logParser, cfg logs.MinerConfig, workers int) *shardedParse {
	s := &shardedParse{p: p, skipped: make([]int64, workers), maxToks: cfg.MaxTokens}
	if s.maxToks == 0 {
		s.maxToks = logs.DefaultMaxTokens
	}
	per := cfg
	if cfg.MaxClusters > 0 {
		per.MaxClusters = (cfg.MaxClusters + workers - 1) / workers
	}
	for range workers {
		s.miners = append(s.miners, logs.NewMiner(per))
	}
	return s
}

func (s *shardedParse) run(ctx context.Context, in io.Reader) error {
	n := len(s.miners)
	free := make(chan *pbatch, 4)
	for range cap(free) {
		free <- &pbatch{buf: make([]byte, 0, batchBytes), outs: make([][]byte, n)}
	}
	work := make([]chan *pbatch, n)
	var workers sync.WaitGroup
	for w := range n {
		work[w] = make(chan *pbatch, cap(free))
		workers.Add(1)
		go func() {
			defer workers.Done()
			s.mine(w, work[w])
		}()
	}
	written := make(chan *pbatch, cap(free))
	done := make(chan error, 1)
	go func() { done <- s.write(written, free) }()

	err := s.read(ctx, in, free, func(b *pbatch) {
		b.wg.Add(n)
		for _, c := range work {
			c <- b
		}
		written <- b
	})
	for _, c := range work {
		close(c)
	}
	close(written)
	werr := <-done
	workers.Wait()
	for _, k := range s.skipped {
		s.p.skipped += k
	}
	return errors.Join(err, werr)
}

// read fills batches from in and hands each on to send.
func (s *shardedParse) read(ctx context.Context, in io.Reader, free chan *pbatch, send func(*pbatch)) error {
	var scratch []string
	b := <-free
	flush := func() {
		send(b)
		b = <-free
		b.buf, b.lines, b.fields = b.buf[:0], b.lines[:0], b.fields[:0]
	}
	b.buf, b.lines, b.fields = b.buf[:0], b.lines[:0], b.fields[:0]
	// put copies record no into the batch.
	put := func(rec []byte, no int64) {
		if len(b.buf)+len(rec) > cap(b.buf) {
			if len(b.lines) > 0 {
				flush()
			}
			if len(rec) > cap(b.buf) {
				// Only now, with no line pointing into it.
				b.buf = make([]byte, 0, len(rec))
			}
		}
		at := len(b.buf)
		b.buf = append(b.buf, rec...)
		var line string
		if len(rec) > 0 {
			line = unsafe.String(&b.buf[at], len(rec))
		}
		scratch = s.add(b, line, no, scratch)
		if len(b.lines) >= 1<<14 {
			flush()
		}
	}
	err := s.p.scan(ctx, in, put)
	send(b)
	return err
}

// add files one line in b, with its header fields and its shard.
func (s *shardedParse) add(b *pbatch, line string, no int64, scratch []string) []string {
	l := pline{no: no, content: line, field: int32(len(b.fields)), shard: -1}
	if f := s.p.format; f != nil {
		var ok bool
		scratch, ok = f.Split(strings.TrimSpace(line), scratch)
		if !ok {
			s.p.skipped++
			b.lines = append(b.lines, l)
			return scratch
		}
		if s.p.json {
			// Only the JSON output shows the header fields.
			b.fields = append(b.fields, scratch...)
		}
		l.content = scratch[f.Content()]
	}
	l.shard = int32(countTokens(l.content, s.maxToks) % len(s.miners))
	b.lines = append(b.lines, l)
	return scratch
}

// mine runs worker w: it mines and formats the lines of its shard.
func (s *shardedParse) mine(w int, in <-chan *pbatch) {
	m := s.miners[w]
	n := uint64(len(s.miners))
	var params []string
	for b := range in {
		out := b.outs[w][:0]
		for i := range b.lines {
			l := &b.lines[i]
			if int(l.shard) != w {
				continue
			}
			r := m.AddInto(l.content, params)
			params = r.Params
			if r.ID == 0 {
				s.skipped[w]++
				l.end = int32(len(out))
				continue
			}
			r.ID = (r.ID-1)*n + uint64(w) + 1
			var fields []string
			if s.p.format != nil && s.p.json {
				fields = b.fields[l.field : int(l.field)+len(s.p.format.Names())]
			}
			out = appendRecord(out, l.no, r, s.p.format, fields, s.p.json)
			l.end = int32(len(out))
		}
		b.outs[w] = out
		b.wg.Done()
	}
}

// write writes the batches in order as their workers finish them.
func (s *shardedParse) write(in <-chan *pbatch, free chan<- *pbatch) error {
	var err error
	pos := make([]int32, len(s.miners))
	for b := range in {
		b.wg.Wait()
		clear(pos)
		for i := range b.lines {
			l := &b.lines[i]
			if l.shard < 0 {
				continue
			}
			if err == nil {
				_, err = s.p.out.Write(b.outs[l.shard][pos[l.shard]:l.end])
			}
			pos[l.shard] = l.end
		}
		free <- b
	}
	if err != nil {
		return fmt.Errorf("logs parse: writing the output: %w", err)
	}
	return nil
}

// templates are the templates of every shard, by their global id.
func (s *shardedParse) templates() []logs.Template {
	var out []logs.Template
	n := uint64(len(s.miners))
	for w, m := range s.miners {
		for _, t := range m.Templates() {
			t.ID = (t.ID-1)*n + uint64(w) + 1
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b logs.Template) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// countTokens counts the white-space separated tokens of s as the miner
// does, at most max: the starts of runs of other bytes, without a branch
// a byte.
func countTokens(s string, max int) int {
	n, prev := 0, uint8(1)
	for i := 0; i < len(s); i++ {
		cur := spaceByte[s[i]]
		n += int(prev &^ cur)
		prev = cur
	}
	return min(n, max)
}

// spaceByte is 1 for the bytes the miner splits tokens at.
var spaceByte = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\v\f") {
		t[c] = 1
	}
	return t
}()
