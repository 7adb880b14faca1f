package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/ui"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var absURL = regexp.MustCompile(`https?://[^\s"'` + "`" + `)]+`)

// TestOffline checks that the page loads nothing from elsewhere: its
// scripts and stylesheets are under /assets/ of the same origin, and no
// file asks for an outside font or CDN.
func TestOffline(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	res, page := get(t, srv.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `<div id="app">`) {
		t.Fatalf("GET / = %d %q", res.StatusCode, page)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("the page's Cache-Control %q, want no-cache", cc)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	var assets int
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "/assets/"):
			assets++
			res, body := get(t, srv.URL+ref)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("GET %s = %d, Cache-Control %q", ref, res.StatusCode, res.Header.Get("Cache-Control"))
			}
			for _, bad := range []string{"fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com", "cdnjs"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s refers to %s", ref, bad)
				}
			}
		case strings.HasPrefix(ref, "data:"):
		default:
			t.Errorf("the page refers to %q, outside /assets/", ref)
		}
	}
	if assets < 2 {
		t.Errorf("the page loads %d assets, want its script and stylesheet", assets)
	}
	// The files the script loads later (uPlot with the first plot) are
	// served the same way and ask for nothing outside either.
	files, err := os.ReadDir("dist/assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		res, body := get(t, srv.URL+"/assets/"+f.Name())
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET /assets/%s = %d", f.Name(), res.StatusCode)
		}
		// No absolute address but XML namespaces (SVG's), which are names,
		// not loaded.
		for _, u := range absURL.FindAllString(body, -1) {
			if !strings.HasPrefix(u, "http://www.w3.org/") {
				t.Errorf("/assets/%s refers to %s", f.Name(), u)
			}
		}
	}
}
