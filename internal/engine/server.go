package engine

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Timeouts of seer's HTTP servers. A client has ReadTimeout for its whole
// request, body included: one that trickles a byte every few seconds
// (holding one of a receiver's in-flight slots) is cut off, rather than
// starving the real clients. Idle keep-alive connections are closed after
// IdleTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = time.Minute
	IdleTimeout       = 2 * time.Minute
)

// NewHTTPServer is an http.Server for h with seer's timeouts.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}
}

// serveHTTP serves srv on ln, over TLS when conf is not nil, until srv is
// shut down.
func serveHTTP(srv *http.Server, ln net.Listener, conf *tls.Config) error {
	if conf == nil {
		return srv.Serve(ln)
	}
	// The certificate comes from conf.GetCertificate: no files are named.
	srv.TLSConfig = conf
	return srv.ServeTLS(ln, "", "")
}

// scheme is https with TLS, else http.
func scheme(conf *tls.Config) string {
	if conf != nil {
		return "https"
	}
	return "http"
}
