// Command flaky is the small real service of the engine's real-process
// test: it answers /healthz, serves Prometheus metrics at /metrics, and on
// GET /fault/hang stops answering anything but new faults, as a
// deadlocked process does.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	pidfile := flag.String("pidfile", "", "where to write the pid")
	flag.Parse()

	var hung atomic.Bool
	var requests atomic.Int64
	started := time.Now()
	block := func(w http.ResponseWriter, r *http.Request) bool {
		requests.Add(1)
		if hung.Load() {
			<-r.Context().Done() // never answers; the client gives up
			return true
		}
		return false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if block(w, r) {
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if block(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE flaky_requests_total counter\nflaky_requests_total %d\n", requests.Load())
		fmt.Fprintf(w, "# TYPE flaky_uptime_seconds gauge\nflaky_uptime_seconds %g\n", time.Since(started).Seconds())
	})
	mux.HandleFunc("GET /fault/hang", func(w http.ResponseWriter, r *http.Request) {
		hung.Store(true)
		fmt.Fprintln(w, "hanging from now on")
	})

	// The previous instance may still hold the port for a moment.
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", *addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		log.Fatal(err)
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("flaky %d listening on %s", os.Getpid(), ln.Addr())
	if err := http.Serve(ln, mux); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
