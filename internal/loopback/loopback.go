// Package loopback hands out free TCP addresses on 127.0.0.1, for the
// processes seer's evaluations, testbed and tests start: traffic stays on
// loopback.
package loopback

import "net"

// FreeAddrs returns n distinct free 127.0.0.1:port addresses. The ports are
// held open together while they are chosen, so that they differ; they are
// free again when it returns (another process may take one meanwhile,
// which a caller that binds them at once rarely meets).
func FreeAddrs(n int) ([]string, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	out := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// FreeAddr is one free 127.0.0.1:port address.
func FreeAddr() (string, error) {
	a, err := FreeAddrs(1)
	if err != nil {
		return "", err
	}
	return a[0], nil
}
