package web

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"blog/posts"
)

// The Atom feed and its usual aliases; ?tag=TAG keeps one tag's posts.
var feedPaths = []string{"/feed.xml", "/atom.xml", "/rss", "/index.xml"}

// feedSize is how many posts (and comments) a feed carries.
const feedSize = 20

const atomType = "application/atom+xml; charset=utf-8"

// Atom (RFC 4287), by hand: short, and every element is the one feed
// readers and validators look for (full content, published and updated,
// categories as term=, a self link, stable tag: ids).
type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	ID       string      `xml:"id"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomPerson  `xml:"author"`
	Gen      string      `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title      string         `xml:"title"`
	ID         string         `xml:"id"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Links      []atomLink     `xml:"link"`
	Author     *atomPerson    `xml:"author,omitempty"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Content    atomText       `xml:"content"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tagID is a tag: URI (RFC 4151) under the site's host, dated by the day
// the thing was first published, so it never changes.
func (s *Site) tagID(day time.Time, specific string) string {
	return "tag:" + s.base.Hostname() + "," + day.UTC().Format("2006-01-02") + ":" + specific
}

// feedEpoch dates the feed's own tag: id; it must never change.
var feedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Site) feed(w http.ResponseWriter, r *http.Request) {
	tag := r.URL.Query().Get("tag")
	ps := s.published(tag)
	if tag != "" && len(ps) == 0 {
		s.notFound(w, r)
		return
	}
	res, err := s.get("feed/"+tag, func() (*resource, error) {
		self := s.link("/feed.xml")
		alternate := s.link("/")
		title := s.cfg.Title
		if tag != "" {
			self += "?tag=" + url.QueryEscape(tag)
			alternate = s.link("/tags/" + url.PathEscape(tag))
			title += ": " + tag
		}
		f := atomFeed{
			Title: title, ID: s.tagID(feedEpoch, "/feed.xml"+strings.TrimPrefix(self, s.link("/feed.xml"))),
			Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}, {Rel: "alternate", Type: "text/html", Href: alternate}},
			Author: atomPerson{Name: s.cfg.Title}, Gen: "blog",
		}
		var updated time.Time
		for _, p := range ps[:min(len(ps), feedSize)] {
			e, err := s.postEntry(p)
			if err != nil {
				return nil, err
			}
			f.Entries = append(f.Entries, e)
			if p.Date.After(updated) {
				updated = p.Date
			}
		}
		if updated.IsZero() {
			updated = feedEpoch
		}
		f.Updated = atomTime(updated)
		return xmlResource(atomType, f, updated)
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	serve(w, r, res, revalidate)
}

func (s *Site) postEntry(p posts.Post) (atomEntry, error) {
	body, err := s.body(p)
	if err != nil {
		return atomEntry{}, err
	}
	e := atomEntry{
		Title: p.Title, ID: s.tagID(p.Date, "/posts/"+p.Slug),
		Published: atomTime(p.Date), Updated: atomTime(p.Date),
		Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: s.link("/posts/" + p.Slug)}, {Rel: "replies", Type: "application/atom+xml", Href: s.link("/posts/" + p.Slug + "/comments.xml")}},
		Content: atomText{Type: "html", Body: string(body)},
	}
	if p.Summary != "" {
		e.Summary = &atomText{Type: "text", Body: p.Summary}
	}
	for _, t := range p.Tags {
		e.Categories = append(e.Categories, atomCategory{Term: t})
	}
	return e, nil
}

// commentsFeed is a post's newest comments, newest first.
func (s *Site) commentsFeed(w http.ResponseWriter, r *http.Request) {
	p, ok := s.cfg.Posts.Get(r.PathValue("slug"))
	if !ok {
		s.notFound(w, r)
		return
	}
	res, err := s.get(commentsFeedKey(p.Slug), func() (*resource, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
		defer cancel()
		t, err := s.threadOf(ctx, p.Slug)
		if err != nil {
			return nil, err
		}
		page := s.link("/posts/" + p.Slug)
		f := atomFeed{
			Title: "Comments on " + p.Title, ID: s.tagID(p.Date, "/posts/"+p.Slug+"/comments"),
			Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: page + "/comments.xml"}, {Rel: "alternate", Type: "text/html", Href: page}},
			Author: atomPerson{Name: s.cfg.Title}, Gen: "blog",
		}
		updated := p.Date
		// Placeholders are left out: they stand in for text nobody may
		// read. An edited comment's entry is updated when it was edited.
		cs := t.comments
		for i := len(cs) - 1; i >= 0 && len(f.Entries) < feedSize; i-- {
			if cs[i].Placeholder() {
				continue
			}
			c := s.commentView(cs[i])
			name := c.Name
			if c.Tag != "" {
				name += " #" + c.Tag
			}
			changed := c.CreatedAt
			if c.Edited {
				changed = c.EditedAt
			}
			f.Entries = append(f.Entries, atomEntry{
				Title: "Comment by " + name, ID: s.tagID(p.Date, "/posts/"+p.Slug+"/comments/"+itoa64(c.ID)),
				Published: atomTime(c.CreatedAt), Updated: atomTime(changed),
				Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: page + "#c" + itoa64(c.ID)}},
				Author:  &atomPerson{Name: name},
				Content: atomText{Type: "text", Body: c.Body},
			})
			if changed.After(updated) {
				updated = changed
			}
		}
		f.Updated = atomTime(updated)
		return xmlResource(atomType, f, updated)
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	serve(w, r, res, revalidate)
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type sitemapSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

func (s *Site) sitemap(w http.ResponseWriter, r *http.Request) {
	res, err := s.get("sitemap.xml", func() (*resource, error) {
		ps := s.published("")
		var m sitemapSet
		var newest time.Time
		tags := map[string]bool{}
		for _, p := range ps {
			if p.Date.After(newest) {
				newest = p.Date
			}
			m.URLs = append(m.URLs, sitemapURL{Loc: s.link("/posts/" + p.Slug), LastMod: p.Date.UTC().Format("2006-01-02")})
			for _, t := range p.Tags {
				if !tags[t] {
					tags[t] = true
					m.URLs = append(m.URLs, sitemapURL{Loc: s.link("/tags/" + url.PathEscape(t))})
				}
			}
		}
		home := sitemapURL{Loc: s.link("/")}
		if !newest.IsZero() {
			home.LastMod = newest.UTC().Format("2006-01-02")
		}
		m.URLs = append([]sitemapURL{home}, m.URLs...)
		return xmlResource("application/xml; charset=utf-8", m, newest)
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	serve(w, r, res, revalidate)
}

func xmlResource(ctype string, v any, modified time.Time) (*resource, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return newResource(ctype, append([]byte(xml.Header), append(b, '\n')...), modified), nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
