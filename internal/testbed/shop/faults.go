package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Inside faults are made by the control endpoints, each for a duration
// after which the service ends it by itself: an injector that dies does not
// leave its fault behind.
//
//	POST /control/cpu?for=D&workers=N     spin N goroutines
//	POST /control/leak?for=D&rate=BYTES   keep BYTES more memory a second
//	POST /control/fill?for=D&rate=BYTES   write BYTES a second into data/
//	POST /control/slow?for=D&ms=N         add N ms to every request
//	POST /control/free-disk               delete what fill wrote
//	POST /control/flush                   empty the cache (cache only)
//	POST /control/reload                  read config.json again
//	POST /control/stop                    end every inside fault now
//	GET  /control/state                   the faults in force
type faults struct {
	svc *service

	mu      sync.Mutex
	active  map[string]*inside // by kind
	leaked  [][]byte
	slowMS  atomic.Int64
	fillSeq int
}

type inside struct {
	kind   string
	until  time.Time
	cancel context.CancelFunc
}

const maxFaultFor = 30 * time.Minute

func (f *faults) routes(mux *http.ServeMux) {
	start := func(kind string, run func(ctx context.Context, q map[string]string) error) {
		mux.HandleFunc("POST /control/"+kind, func(w http.ResponseWriter, r *http.Request) {
			q := map[string]string{}
			for k, v := range r.URL.Query() {
				q[k] = v[0]
			}
			d, err := time.ParseDuration(q["for"])
			if err != nil || d <= 0 || d > maxFaultFor {
				http.Error(w, fmt.Sprintf("for=%q: give a duration up to %s", q["for"], maxFaultFor), http.StatusBadRequest)
				return
			}
			if err := f.begin(kind, d, q, run); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	start("cpu", f.cpu)
	start("leak", f.leak)
	start("fill", f.fill)
	start("slow", f.slow)
	mux.HandleFunc("POST /control/free-disk", func(w http.ResponseWriter, _ *http.Request) {
		f.end("fill")
		n, err := f.freeDisk()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "freed %d bytes\n", n)
	})
	mux.HandleFunc("POST /control/flush", func(w http.ResponseWriter, _ *http.Request) {
		if f.svc.cache == nil {
			http.Error(w, "not a cache", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "flushed %d keys\n", f.svc.cache.flush())
	})
	mux.HandleFunc("POST /control/reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := f.svc.reload(); err != nil {
			f.svc.logf("ERROR", "config reload refused: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /control/stop", func(w http.ResponseWriter, _ *http.Request) {
		f.stopAll()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /control/state", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		out := map[string]string{}
		for k, a := range f.active {
			out[k] = a.until.UTC().Format(time.RFC3339)
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(out)
	})
}

func (f *faults) begin(kind string, d time.Duration, q map[string]string, run func(context.Context, map[string]string) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active == nil {
		f.active = map[string]*inside{}
	}
	if _, ok := f.active[kind]; ok {
		return fmt.Errorf("a %s fault is already in force", kind)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	a := &inside{kind: kind, until: time.Now().Add(d), cancel: cancel}
	f.active[kind] = a
	f.svc.logf("DEBUG", "control: %s for %s", kind, d)
	go func() {
		if err := run(ctx, q); err != nil {
			f.svc.logf("ERROR", "control %s: %v", kind, err)
		}
		<-ctx.Done()
		f.mu.Lock()
		if f.active[kind] == a {
			delete(f.active, kind)
		}
		f.mu.Unlock()
		cancel()
	}()
	return nil
}

func (f *faults) end(kind string) {
	f.mu.Lock()
	a := f.active[kind]
	delete(f.active, kind)
	f.mu.Unlock()
	if a != nil {
		a.cancel()
	}
}

func (f *faults) stopAll() {
	f.mu.Lock()
	kinds := make([]string, 0, len(f.active))
	for k := range f.active {
		kinds = append(kinds, k)
	}
	f.mu.Unlock()
	for _, k := range kinds {
		f.end(k)
	}
}

func (f *faults) delay() time.Duration { return time.Duration(f.slowMS.Load()) * time.Millisecond }

func intParam(q map[string]string, key string, def int64) int64 {
	if v, ok := q[key]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func (f *faults) cpu(ctx context.Context, q map[string]string) error {
	n := int(min(intParam(q, "workers", int64(runtime.NumCPU())), 64))
	for range n {
		go func() {
			x := 1.0
			for ctx.Err() == nil {
				for range 100_000 {
					x = x*1.0000001 + 1e-9
				}
			}
			_ = x
		}()
	}
	return nil
}

func (f *faults) leak(ctx context.Context, q map[string]string) error {
	rate := min(intParam(q, "rate", 8<<20), 256<<20)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			f.mu.Lock()
			f.leaked = nil
			f.mu.Unlock()
			runtime.GC()
			return nil
		case <-tick.C:
		}
		b := make([]byte, rate/4)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touched, so resident
		}
		f.mu.Lock()
		f.leaked = append(f.leaked, b)
		f.mu.Unlock()
	}
}

func (f *faults) slow(ctx context.Context, q map[string]string) error {
	f.slowMS.Store(min(intParam(q, "ms", 200), 10_000))
	<-ctx.Done()
	f.slowMS.Store(0)
	return nil
}

// fill writes into the data directory until the quota is reached, and
// deletes what it wrote when it ends.
func (f *faults) fill(ctx context.Context, q map[string]string) error {
	rate := min(intParam(q, "rate", 8<<20), 256<<20)
	f.mu.Lock()
	f.fillSeq++
	path := filepath.Join(f.svc.opt.Dir, "data", fmt.Sprintf("fill-%d.bin", f.fillSeq))
	f.mu.Unlock()
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.freeDisk()
	defer file.Close()
	chunk := make([]byte, rate/4)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if f.used() >= f.svc.opt.DiskQuota {
			continue
		}
		if _, err := file.Write(chunk); err != nil {
			return err
		}
	}
}

func (f *faults) freeDisk() (int64, error) {
	files, _ := filepath.Glob(filepath.Join(f.svc.opt.Dir, "data", "fill-*.bin"))
	var n int64
	var errs []error
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
		errs = append(errs, os.Remove(p))
	}
	if n > 0 {
		f.svc.logf("INFO", "freed %d bytes of the data directory", n)
	}
	return n, errors.Join(errs...)
}

// used is the bytes in the data directory.
func (f *faults) used() int64 {
	var n int64
	filepath.WalkDir(filepath.Join(f.svc.opt.Dir, "data"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// diskFull is the error of a write the quota refuses.
func (f *faults) diskFull() error {
	if f.svc.opt.DiskQuota > 0 && f.used() >= f.svc.opt.DiskQuota {
		f.svc.logf("ERROR", "write failed: no space left on device (data directory at its %d MiB quota)", f.svc.opt.DiskQuota>>20)
		return errors.New("no space left on device")
	}
	return nil
}

// write appends to a file of the data directory, within the quota.
func (f *faults) write(name string, b []byte) error {
	if err := f.diskFull(); err != nil {
		return err
	}
	fh, err := os.OpenFile(filepath.Join(f.svc.opt.Dir, "data", name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = fh.Write(b)
	return errors.Join(err, fh.Close())
}

// rss is the process's resident set in bytes, from /proc.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// watchMemory ends the process as the OOM killer would once its resident
// set passes the memory quota.
func (f *faults) watchMemory(ctx context.Context) {
	if f.svc.opt.MemQuota <= 0 {
		return
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if r := rss(); r > f.svc.opt.MemQuota {
			f.svc.logf("ERROR", "out of memory: resident %d MiB over the %d MiB limit; killed", r>>20, f.svc.opt.MemQuota>>20)
			os.Exit(137)
		}
	}
}

// metricsHandler is /metrics: the process's own collector (CPU, memory,
// file descriptors) and the use of the quotas.
func (s *service) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shop_disk_utilization", Help: "Bytes in the data directory over its quota.",
	}, func() float64 {
		if s.opt.DiskQuota <= 0 {
			return 0
		}
		return float64(s.faults.used()) / float64(s.opt.DiskQuota)
	}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shop_memory_utilization", Help: "Resident memory over the memory limit.",
	}, func() float64 {
		if s.opt.MemQuota <= 0 {
			return 0
		}
		return float64(rss()) / float64(s.opt.MemQuota)
	}))
	// Of the process collector's series only those about the process
	// itself: its virtual size says nothing, and its network counters are
	// the whole host's (one network namespace).
	keep := map[string]bool{"process_cpu_seconds_total": true, "process_resident_memory_bytes": true,
		"process_open_fds": true, "shop_disk_utilization": true, "shop_memory_utilization": true}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		out := mfs[:0]
		for _, mf := range mfs {
			if keep[mf.GetName()] {
				out = append(out, mf)
			}
		}
		return out, err
	})
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
