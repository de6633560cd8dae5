package web_test

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
)

// tagURI is RFC 4151's shape: tag:AUTHORITY,DATE:SPECIFIC.
var tagURI = regexp.MustCompile(`^tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:\S+$`)

func parseAtom(t *testing.T, body string) *atom.Feed {
	t.Helper()
	f, err := (&atom.Parser{}).Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("atom: %v\n%s", err, body)
	}
	// The universal parser must also take it as Atom.
	if u, err := gofeed.NewParser().ParseString(body); err != nil || u.FeedType != "atom" {
		t.Fatalf("gofeed: %v %v", u, err)
	}
	// Well-formed XML, every element closed.
	dec := xml.NewDecoder(strings.NewReader(body))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("XML: %v", err)
			}
			break
		}
	}
	return f
}

func link(links []*atom.Link, rel string) *atom.Link {
	for _, l := range links {
		if l.Rel == rel {
			return l
		}
	}
	return nil
}

func TestFeedFields(t *testing.T) {
	b := startBlog(t, blogOpts{})
	resp, body := get(t, b.url+"/feed.xml")
	if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") != "Wed, 18 Nov 2026 00:00:00 GMT" {
		t.Fatalf("validators: %v", resp.Header)
	}
	if r, _ := get(t, b.url+"/feed.xml", "If-None-Match", resp.Header.Get("ETag")); r.StatusCode != 304 {
		t.Fatalf("conditional GET: %d", r.StatusCode)
	}
	f := parseAtom(t, body)
	if f.Title != "Notes" || !tagURI.MatchString(f.ID) || f.Updated != "2026-11-18T00:00:00Z" || f.UpdatedParsed == nil {
		t.Fatalf("feed: title %q id %q updated %q", f.Title, f.ID, f.Updated)
	}
	if self := link(f.Links, "self"); self == nil || self.Href != "https://blog.test/feed.xml" || self.Type != "application/atom+xml" {
		t.Fatalf("self link: %+v", self)
	}
	if alt := link(f.Links, "alternate"); alt == nil || alt.Href != "https://blog.test/" {
		t.Fatalf("alternate link: %+v", alt)
	}
	if len(f.Authors) != 1 || f.Authors[0].Name != "Notes" {
		t.Fatalf("authors: %+v", f.Authors)
	}
	published := b.lib.Published()
	if len(f.Entries) != len(published) {
		t.Fatalf("%d entries for %d posts", len(f.Entries), len(published))
	}
	ids := map[string]bool{}
	for i, e := range f.Entries {
		p := published[i] // newest first, like the posts
		if e.Title != p.Title || e.Summary != p.Summary {
			t.Errorf("entry %d: %q %q", i, e.Title, e.Summary)
		}
		if !tagURI.MatchString(e.ID) || ids[e.ID] || !strings.HasSuffix(e.ID, "/posts/"+p.Slug) {
			t.Errorf("entry %d: id %q", i, e.ID)
		}
		ids[e.ID] = true
		if e.PublishedParsed == nil || !e.PublishedParsed.Equal(p.Date) || e.UpdatedParsed == nil || !e.UpdatedParsed.Equal(p.Date) {
			t.Errorf("entry %d: published %q updated %q, want %v", i, e.Published, e.Updated, p.Date)
		}
		if alt := link(e.Links, "alternate"); alt == nil || alt.Href != "https://blog.test/posts/"+p.Slug || alt.Type != "text/html" {
			t.Errorf("entry %d: alternate %+v", i, alt)
		}
		if r := link(e.Links, "replies"); r == nil || r.Href != "https://blog.test/posts/"+p.Slug+"/comments.xml" {
			t.Errorf("entry %d: replies %+v", i, r)
		}
		var terms []string
		for _, c := range e.Categories {
			terms = append(terms, c.Term)
		}
		if strings.Join(terms, ",") != strings.Join(p.Tags, ",") {
			t.Errorf("entry %d: categories %v, want %v", i, terms, p.Tags)
		}
		if e.Content == nil || e.Content.Type != "html" || !strings.Contains(e.Content.Value, "<p>") {
			t.Errorf("entry %d: content %+v", i, e.Content)
		}
	}
	// Full content: the table and the code of the Go post.
	if !strings.Contains(f.Entries[1].Content.Value, "<table>") || !strings.Contains(f.Entries[1].Content.Value, "NewServeMux") {
		t.Error("the Go post's entry lacks its table or code")
	}
	// The same feed under every alias; a stable id across requests.
	for _, alias := range []string{"/atom.xml", "/rss", "/index.xml"} {
		if _, again := get(t, b.url+alias); again != body {
			t.Errorf("%s differs from /feed.xml", alias)
		}
	}
}

func TestTagFeed(t *testing.T) {
	b := startBlog(t, blogOpts{})
	_, body := get(t, b.url+"/feed.xml?tag=go")
	f := parseAtom(t, body)
	if len(f.Entries) != 1 || f.Entries[0].Title != "Go for Backend Services: A Practical Overview" {
		t.Fatalf("entries: %d", len(f.Entries))
	}
	if self := link(f.Links, "self"); self == nil || self.Href != "https://blog.test/feed.xml?tag=go" {
		t.Fatalf("self: %+v", self)
	}
	if alt := link(f.Links, "alternate"); alt == nil || alt.Href != "https://blog.test/tags/go" {
		t.Fatalf("alternate: %+v", alt)
	}
	_, all := get(t, b.url+"/feed.xml")
	if parseAtom(t, all).ID == f.ID {
		t.Fatal("the tag feed has the whole feed's id")
	}
}

func TestCommentsFeed(t *testing.T) {
	b := startBlog(t, blogOpts{})
	u := b.url + "/posts/" + goPost + "/comments.xml"
	_, empty := get(t, u)
	if f := parseAtom(t, empty); len(f.Entries) != 0 || f.Title != "Comments on Go for Backend Services: A Practical Overview" {
		t.Fatalf("before any comment: %q, %d entries", f.Title, len(f.Entries))
	}
	first := b.comment(t, "ada", "First <b>comment</b>")
	second := b.comment(t, "bob", "Second & last")
	var f *atom.Feed
	waitUntil(t, func() bool {
		_, body := get(t, u)
		f = parseAtom(t, body)
		return len(f.Entries) == 2
	})
	if self := link(f.Links, "self"); self == nil || self.Href != "https://blog.test/posts/"+goPost+"/comments.xml" {
		t.Fatalf("self: %+v", self)
	}
	if !f.UpdatedParsed.Equal(second.CreatedAt.Truncate(time.Second)) {
		t.Errorf("updated %v, want the newest comment's %v", f.UpdatedParsed, second.CreatedAt)
	}
	for i, want := range []struct {
		c    string
		id   int64
		name string
	}{{"Second & last", second.ID, "bob #Q3fa9k"}, {"First <b>comment</b>", first.ID, "ada #Q3fa9k"}} {
		e := f.Entries[i]
		if e.Content == nil || e.Content.Type != "text" || e.Content.Value != want.c {
			t.Errorf("entry %d: content %+v", i, e.Content)
		}
		if !tagURI.MatchString(e.ID) || !strings.HasSuffix(e.ID, "/comments/"+itoa(want.id)) {
			t.Errorf("entry %d: id %q", i, e.ID)
		}
		if len(e.Authors) != 1 || e.Authors[0].Name != want.name || e.Title != "Comment by "+want.name {
			t.Errorf("entry %d: %q by %+v", i, e.Title, e.Authors)
		}
		if alt := link(e.Links, "alternate"); alt == nil || alt.Href != "https://blog.test/posts/"+goPost+"#c"+itoa(want.id) {
			t.Errorf("entry %d: alternate %+v", i, alt)
		}
		if e.PublishedParsed == nil || e.UpdatedParsed == nil {
			t.Errorf("entry %d: dates %q %q", i, e.Published, e.Updated)
		}
	}
}

func TestSitemap(t *testing.T) {
	b := startBlog(t, blogOpts{})
	_, body := get(t, b.url+"/sitemap.xml")
	var m struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	locs := map[string]string{}
	for _, u := range m.URLs {
		locs[u.Loc] = u.LastMod
	}
	if locs["https://blog.test/"] != "2026-11-18" || locs["https://blog.test/posts/"+goPost] != "2026-11-12" {
		t.Fatalf("sitemap: %v", locs)
	}
	if _, ok := locs["https://blog.test/posts/draft-ideas"]; ok {
		t.Fatal("the sitemap lists a draft")
	}
}
