package chaos

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// NetFault is what a Proxy does to the bytes it carries.
type NetFault struct {
	// Latency is added to every chunk a client sends (a request), plus a
	// uniform share of Jitter.
	Latency, Jitter time.Duration
	// Loss is the share of chunks held back as a lost packet is: for a
	// retransmission timeout (200 ms, doubling, up to three times).
	Loss float64
	// Reset is the share of chunks at which the connection is reset (RST
	// to both ends).
	Reset float64
}

// Proxy is a TCP proxy between the callers of a service and the service:
// the testbed puts one in front of every service, and network faults are
// made there.
type Proxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	fault *NetFault
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy listens on listen and forwards each connection to backend.
func NewProxy(listen, backend string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address callers use.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set puts a fault in force; nil clears it.
func (p *Proxy) Set(f *NetFault) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

// Fault is the fault in force, or nil.
func (p *Proxy) Fault() *NetFault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// Close stops listening and ends every connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	backend, err := net.DialTimeout("tcp", p.backend, 2*time.Second)
	if err != nil {
		// The service is down: the caller sees its connection closed.
		reset(client)
		return
	}
	p.track(backend, true)
	defer p.track(backend, false)
	defer backend.Close()
	done := make(chan struct{}, 2)
	go func() { p.pipe(backend, client, true); done <- struct{}{} }()
	go func() { p.pipe(client, backend, false); done <- struct{}{} }()
	<-done
	// One side ended: end the other, as a real connection would.
	client.Close()
	backend.Close()
	<-done
}

// pipe copies src to dst; the fault applies to what clients send.
func (p *Proxy) pipe(dst, src net.Conn, fromClient bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient {
				if f := p.Fault(); f != nil {
					if f.Reset > 0 && rand.Float64() < f.Reset {
						reset(src)
						reset(dst)
						return
					}
					wait := f.Latency
					if f.Jitter > 0 {
						wait += time.Duration(rand.Int64N(int64(f.Jitter)))
					}
					rto := 200 * time.Millisecond
					for i := 0; i < 3 && f.Loss > 0 && rand.Float64() < f.Loss; i++ {
						wait += rto
						rto *= 2
					}
					if wait > 0 {
						time.Sleep(wait)
					}
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				tc.CloseWrite()
			}
			return
		}
	}
}

// reset closes a connection with an RST rather than a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
