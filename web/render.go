package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed assets/pages.html assets/style.css assets/live.js
var assetFiles embed.FS

// resource is one rendered page, feed or asset, kept in memory with its
// gzipped bytes and a strong ETag.
type resource struct {
	ctype    string
	body, gz []byte
	etag     string // quoted; the gzipped bytes carry etag with "-gz" before the closing quote
	modified time.Time
	lib      uint64 // the posts' version it was rendered from
}

// newResource compresses body once, so every request is a copy from memory.
func newResource(ctype string, body []byte, modified time.Time) *resource {
	sum := sha256.Sum256(body)
	res := &resource{ctype: ctype, body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, modified: modified.UTC().Truncate(time.Second)}
	if len(body) > 256 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			res.gz = buf.Bytes()
		}
	}
	return res
}

func (r *resource) size() int64 { return int64(len(r.body)+len(r.gz)+len(r.etag)+len(r.ctype)) + 96 }

// serve writes res with its validators; http.ServeContent answers
// If-None-Match and If-Modified-Since with 304, HEAD without a body, and
// ranges.
func serve(w http.ResponseWriter, r *http.Request, res *resource, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", res.ctype)
	h.Set("Cache-Control", cacheControl)
	body, etag := res.body, res.etag
	if res.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = res.gz, strings.TrimSuffix(res.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", res.modified, bytes.NewReader(body))
}

// acceptsGzip reads Accept-Encoding as far as gzip is concerned: listed
// (or "*") without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q=")
		if !ok {
			return true
		}
		f, err := strconv.ParseFloat(q, 64)
		return err == nil && f > 0
	}
	return false
}

// assets are the stylesheet and the script, served under names that hold
// their hash so they can be cached for good.
type assets struct {
	css, js         *resource
	cssPath, jsPath string
}

func loadAssets() assets {
	css, _ := assetFiles.ReadFile("assets/style.css")
	js, _ := assetFiles.ReadFile("assets/live.js")
	css = append(css, codeCSS()...)
	var a assets
	a.css = newResource("text/css; charset=utf-8", css, time.Time{})
	a.js = newResource("text/javascript; charset=utf-8", js, time.Time{})
	a.cssPath = "/assets/style." + strings.Trim(a.css.etag, `"`)[:12] + ".css"
	a.jsPath = "/assets/live." + strings.Trim(a.js.etag, `"`)[:12] + ".js"
	return a
}

// pageTemplates parses the pages; each page is the layout around one
// named part.
func pageTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"date":  func(t time.Time) string { return t.Format("2 Jan 2006") },
		"stamp": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		"tagURL": func(tag string) string {
			return "/tags/" + url.PathEscape(tag)
		},
		"comments": func(n int) string {
			if n == 1 {
				return "1 comment"
			}
			return strconv.Itoa(n) + " comments"
		},
	}
	base := template.Must(template.New("pages").Funcs(funcs).ParseFS(assetFiles, "assets/pages.html"))
	out := map[string]*template.Template{}
	for _, part := range []string{"list", "post", "message"} {
		t := template.Must(base.Clone())
		template.Must(t.Parse(`{{define "main"}}{{template "` + part + `" .Body}}{{end}}`))
		out[part] = t
	}
	out["thread"] = base
	return out
}

// layout is what every page shows around its part.
type layout struct {
	Site, Title, Description, Canonical string
	Notice, Host                        string
	CSS, JS                             string
	Feeds                               bool
	Post                                any // set on a post's page: its meta tags and script
	Body                                any
}
