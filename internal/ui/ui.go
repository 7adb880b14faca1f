package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the built UI: index.html at / and the hashed files under
// /assets/. The hashed files never change under their name, so they are
// cached for a year; the page itself is revalidated on every load.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // dist is embedded at build time; its absence is a build error
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	})
}
