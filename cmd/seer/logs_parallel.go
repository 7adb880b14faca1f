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
// tokens modulo the shards: the miner's tree is rooted at that count, so
// lines that could share a template always meet in the same miner, and
// the templates are those one miner would find. There are several shards
// a worker, and the workers take a batch's shards largest first, which
// evens out their loads; a batch's shards are handed out once the batch
// before is mined, so that each miner sees its lines in order. The
// batches are written in input order.
type shardedParse struct {
	p       *logParser
	miners  []*logs.Miner
	workers int
	maxToks int
	skipped []int64 // by shard, read once the workers are done
}

// shardsPerWorker is how many shards each worker has to choose from.
const shardsPerWorker = 4

// task is the lines of one shard in one batch.
type task struct {
	b     *pbatch
	shard int
}

// batchBytes is about how much input one batch holds.
const batchBytes = 1 << 20

// pbatch is a run of input lines and their output.
type pbatch struct {
	buf    []byte
	lines  []pline
	fields []string
	idx    [][]int32 // by shard, the lines of the shard
	outs   [][]byte  // by shard
	wg     sync.WaitGroup
}

func (b *pbatch) reset() {
	b.buf, b.lines, b.fields = b.buf[:0], b.lines[:0], b.fields[:0]
	for k := range b.idx {
		b.idx[k] = b.idx[k][:0]
	}
}

// pline is one line of a batch.
type pline struct {
	no      int64
	content string
	// field is the index in the batch's fields of the line's first.
	field int32
	// shard is the shard of the line, -1 when it was skipped.
	shard int32
	// end is where the line's output ends in its shard's.
	end int32
}

func newShardedParse(p *logParser, cfg logs.MinerConfig, workers int) *shardedParse {
	n := workers * shardsPerWorker
	s := &shardedParse{p: p, workers: workers, skipped: make([]int64, n), maxToks: cfg.MaxTokens}
	if s.maxToks == 0 {
		s.maxToks = logs.DefaultMaxTokens
	}
	// Each shard may keep the templates of the whole stream: the lengths
	// of lines are seldom spread evenly over the shards.
	for range n {
		s.miners = append(s.miners, logs.NewMiner(cfg))
	}
	return s
}

func (s *shardedParse) run(ctx context.Context, in io.Reader) error {
	n := len(s.miners)
	free := make(chan *pbatch, 4)
	for range cap(free) {
		free <- &pbatch{buf: make([]byte, 0, batchBytes), idx: make([][]int32, n), outs: make([][]byte, n)}
	}
	tasks := make(chan task, n)
	var workers sync.WaitGroup
	for range s.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			s.mine(tasks)
		}()
	}
	written := make(chan *pbatch, cap(free))
	done := make(chan error, 1)
	go func() { done <- s.write(written, free) }()

	var prev *pbatch
	order := make([]int, 0, n)
	err := s.read(ctx, in, free, func(b *pbatch) {
		// The batch before must be mined first: a miner takes its lines
		// in order.
		if prev != nil {
			prev.wg.Wait()
		}
		prev = b
		order = order[:0]
		for k := range n {
			if len(b.idx[k]) > 0 {
				order = append(order, k)
			}
		}
		slices.SortFunc(order, func(x, y int) int { return cmp.Compare(len(b.idx[y]), len(b.idx[x])) })
		b.wg.Add(len(order))
		for _, k := range order {
			tasks <- task{b: b, shard: k}
		}
		written <- b
	})
	close(tasks)
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
		b.reset()
	}
	b.reset()
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
	k := countTokens(l.content, s.maxToks) % len(s.miners)
	l.shard = int32(k)
	b.idx[k] = append(b.idx[k], int32(len(b.lines)))
	b.lines = append(b.lines, l)
	return scratch
}

// mine runs a worker: it mines and formats the lines of the shards it
// takes.
func (s *shardedParse) mine(in <-chan task) {
	n := uint64(len(s.miners))
	var params []string
	for t := range in {
		b, k := t.b, t.shard
		m := s.miners[k]
		out := b.outs[k][:0]
		for _, i := range b.idx[k] {
			l := &b.lines[i]
			r := m.AddInto(l.content, params)
			params = r.Params
			if r.ID == 0 {
				s.skipped[k]++
				l.end = int32(len(out))
				continue
			}
			r.ID = (r.ID-1)*n + uint64(k) + 1
			var fields []string
			if s.p.format != nil && s.p.json {
				fields = b.fields[l.field : int(l.field)+len(s.p.format.Names())]
			}
			out = appendRecord(out, l.no, r, s.p.format, fields, s.p.json)
			l.end = int32(len(out))
		}
		b.outs[k] = out
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
