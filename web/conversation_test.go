package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"blog/data"

	"golang.org/x/net/html"
)

// say stores a comment on the test post by key (a reply when replyTo is
// not 0).
func (b *blog) say(t *testing.T, key, name, body string, replyTo int64) data.Comment {
	t.Helper()
	c, err := b.store.AddComment(t.Context(), data.NewComment{PostSlug: goPost, Name: name, Body: body, ReplyTo: replyTo,
		Author: data.Author{KeyFingerprint: "SHA256:" + key + "Q3fa9kAbCdEfGhIjKlMnOpQrStUvWxYz0123", IP: "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *blog) edit(t *testing.T, c data.Comment, body string) data.Comment {
	t.Helper()
	e, err := b.store.EditComment(t.Context(), data.CommentEdit{ID: c.ID, Body: body, Author: data.Author{KeyFingerprint: c.AuthorKey, IP: "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// node is an element of a page, found by id.
func byID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				return n
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := byID(c, id); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// under is the article a comment's article sits in, "" at the top.
func under(t *testing.T, doc *html.Node, id int64) string {
	t.Helper()
	n := byID(doc, "c"+itoa(id))
	if n == nil || n.Data != "article" {
		t.Fatalf("comment %d is not an article on the page", id)
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Data == "article" {
			return attr(p, "id")
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// ownText is the text of an article without the replies in it.
func ownText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if attr(c, "class") != "replies" {
			b.WriteString(text(c))
		}
	}
	return b.String()
}

// The post page shows the conversation as the terminal does: replies one
// step in under the comment they answer, a reply to a reply beside its
// parent saying whom it answers, edits marked with their time, and
// placeholders that show nothing of what they stand in for and are not
// counted; the comments feed leaves placeholders out and dates edits.
func TestConversationOnThePage(t *testing.T) {
	b := startBlog(t, blogOpts{})
	page := b.url + "/posts/" + goPost
	root := b.say(t, "a", "ada", "the root, soon deleted", 0)
	reply := b.say(t, "b", "<b>bob</b>", "a reply", root.ID)
	deeper := b.say(t, "c", "cy", "a reply to a reply", reply.ID)
	other := b.say(t, "d", "dee", "another root, soon hidden", 0)
	answer := b.say(t, "e", "eve", "its answer", other.ID)
	alone := b.say(t, "f", "fay", "a root without replies, soon deleted", 0)
	edited := b.edit(t, reply, "a reply, edited <i>")
	for _, err := range []error{
		b.store.DeleteComment(t.Context(), root.ID, "test"),
		b.store.SetHidden(t.Context(), other.ID, true, "test"),
		b.store.DeleteComment(t.Context(), alone.ID, "test"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var body string
	waitUntil(t, func() bool {
		_, body = get(t, page)
		return strings.Contains(body, "[hidden]") && !strings.Contains(body, "soon deleted")
	})
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id    int64
		under string
	}{{root.ID, ""}, {reply.ID, "c" + itoa(root.ID)}, {deeper.ID, "c" + itoa(root.ID)}, {other.ID, ""}, {answer.ID, "c" + itoa(other.ID)}} {
		if got := under(t, doc, c.id); got != c.under {
			t.Errorf("comment %d is under %q, want %q", c.id, got, c.under)
		}
	}
	if byID(doc, "c"+itoa(alone.ID)) != nil {
		t.Error("a deleted comment without replies is on the page")
	}
	for _, c := range []struct {
		id   int64
		want string
	}{{root.ID, "[deleted]"}, {other.ID, "[hidden]"}} {
		n := byID(doc, "c"+itoa(c.id))
		if !strings.Contains(attr(n, "class"), "placeholder") {
			t.Errorf("comment %d: class %q, want a placeholder", c.id, attr(n, "class"))
		}
		// Its own text, besides its replies, is only what stands in for it.
		if own := ownText(n); own != c.want {
			t.Errorf("comment %d shows %q, want %q", c.id, own, c.want)
		}
	}
	for _, gone := range []string{"the root", "ada", "another root", "dee"} {
		if strings.Contains(body, gone) {
			t.Errorf("the page shows %q of a placeholder", gone)
		}
	}
	// Only the reply to a reply says whom it answers, and it is escaped.
	if got := text(byID(doc, "c"+itoa(deeper.ID))); !strings.Contains(got, "replying to <b>bob</b>") {
		t.Errorf("the reply to a reply reads %q", got)
	}
	if !strings.Contains(body, "replying to <span class=\"to-name\" data-to=\""+itoa(reply.ID)+"\">&lt;b&gt;bob&lt;/b&gt;</span>") {
		t.Error("the name a reply answers is not escaped")
	}
	if strings.Count(body, "replying to") != 1 {
		t.Errorf("%d \"replying to\", want 1", strings.Count(body, "replying to"))
	}
	// The edit is marked, with its time.
	mark := `<span class="edited">edited <time datetime="` + edited.EditedAt.UTC().Format(time.RFC3339) + `">`
	if !strings.Contains(body, mark) || !strings.Contains(body, "a reply, edited &lt;i&gt;") || strings.Count(body, `class="edited"`) != 1 {
		t.Errorf("the edit is not shown, marked once with its time %s", mark)
	}
	// Three comments are there to read: the placeholders are not counted,
	// here and in the list, as in the terminal.
	if !strings.Contains(body, `<span id="comment-count">3</span>`) {
		t.Error("the count is not 3")
	}
	if _, list := get(t, b.url+"/"); !strings.Contains(list, "3 comments") {
		t.Error("the list does not count 3 comments")
	}

	_, feed := get(t, page+"/comments.xml")
	f := parseAtom(t, feed)
	var ids []string
	for _, e := range f.Entries {
		ids = append(ids, e.ID[strings.LastIndex(e.ID, "/")+1:])
		if strings.Contains(e.Content.Value, "soon") || e.Content.Value == "" {
			t.Errorf("the feed carries %q", e.Content.Value)
		}
	}
	if want := []string{itoa(answer.ID), itoa(deeper.ID), itoa(reply.ID)}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("the feed's entries are %v, want %v", ids, want)
	}
	e := f.Entries[2]
	if e.Content.Value != "a reply, edited <i>" || !e.UpdatedParsed.Equal(edited.EditedAt.Truncate(time.Second)) ||
		!e.PublishedParsed.Equal(reply.CreatedAt.Truncate(time.Second)) {
		t.Errorf("the edited entry: %q published %s updated %s", e.Content.Value, e.Published, e.Updated)
	}
	newest := edited.EditedAt // after every comment was written
	if !f.UpdatedParsed.Equal(newest.Truncate(time.Second)) {
		t.Errorf("the feed is updated %s, want %s", f.Updated, newest)
	}
}

// payload is a live frame's data.
type payload struct {
	ID     int64   `json:"id"`
	Parent int64   `json:"parent"`
	Name   string  `json:"name"`
	Keep   []int64 `json:"keep"`
	HTML   string  `json:"html"`
}

func decode(t *testing.T, ev sseEvent, want string) payload {
	t.Helper()
	var p payload
	if ev.event != want || json.Unmarshal([]byte(ev.data), &p) != nil {
		t.Fatalf("got %+v, want a %s event", ev, want)
	}
	return p
}

// Live, a reply goes under the comment it is shown with, an edit
// replaces the text and marks it, a deletion with replies leaves a
// placeholder, and a placeholder whose last reply goes goes too; a page
// that reconnects gets the same frames again.
func TestLiveConversation(t *testing.T) {
	b := startBlog(t, blogOpts{})
	page := b.url + "/posts/" + goPost
	_, html := get(t, page)
	_, events := openStream(t, page+"/events?since="+dataSince(t, html))
	root := b.say(t, "a", "ada", "the root", 0)
	if p := decode(t, next(t, events), "comment"); p.ID != root.ID || p.Parent != 0 {
		t.Fatalf("the root: %+v", p)
	}

	reply := b.say(t, "b", "bob", "a reply", root.ID)
	ev := next(t, events)
	p := decode(t, ev, "comment")
	if p.ID != reply.ID || p.Parent != root.ID || !strings.Contains(p.HTML, `class="comment reply"`) || strings.Contains(p.HTML, "replying to") {
		t.Fatalf("the reply: %+v", p)
	}
	first := ev.id
	deeper := b.say(t, "c", "cy", "a reply to a reply", reply.ID)
	p = decode(t, next(t, events), "comment")
	if p.ID != deeper.ID || p.Parent != root.ID || !strings.Contains(p.HTML, `replying to <span class="to-name" data-to="`+itoa(reply.ID)+`">bob</span>`) {
		t.Fatalf("the reply to a reply: %+v", p)
	}
	edited := b.edit(t, reply, "a reply, <i>edited</i>")
	p = decode(t, next(t, events), "edit")
	if p.ID != reply.ID || !strings.Contains(p.HTML, "a reply, &lt;i&gt;edited&lt;/i&gt;") ||
		!strings.Contains(p.HTML, `edited <time datetime="`+edited.EditedAt.UTC().Format(time.RFC3339)+`"`) {
		t.Fatalf("the edit: %+v", p)
	}
	// The root and the reply go with replies under them: placeholders,
	// without their text or author, and the replies to the reply say so.
	if err := b.store.DeleteComment(t.Context(), root.ID, "test"); err != nil {
		t.Fatal(err)
	}
	p = decode(t, next(t, events), "edit")
	if p.ID != root.ID || p.Name != "[deleted]" || !strings.Contains(p.HTML, "placeholder") || strings.Contains(p.HTML, "the root") || strings.Contains(p.HTML, "ada") {
		t.Fatalf("the root deleted: %+v", p)
	}
	if err := b.store.SetHidden(t.Context(), reply.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	p = decode(t, next(t, events), "edit")
	if p.ID != reply.ID || p.Name != "[hidden]" || !strings.Contains(p.HTML, "[hidden]") || strings.Contains(p.HTML, "edited") || strings.Contains(p.HTML, "bob") {
		t.Fatalf("the reply hidden: %+v", p)
	}
	// The last reply goes: so do the placeholders it kept.
	if err := b.store.DeleteComment(t.Context(), deeper.ID, "test"); err != nil {
		t.Fatal(err)
	}
	p = decode(t, next(t, events), "remove")
	if p.ID != deeper.ID || len(p.Keep) != 0 {
		t.Fatalf("the last reply deleted: %+v", p)
	}
	var body string
	waitUntil(t, func() bool { _, body = get(t, page); return !strings.Contains(body, "placeholder") })
	if !strings.Contains(body, `<span id="comment-count">0</span>`) {
		t.Error("the page does not count 0 comments")
	}

	// A page that reconnects after the first reply gets the rest, in
	// order, alike.
	_, replay := openStream(t, page+"/events", "Last-Event-ID", first)
	for _, want := range []string{"comment", "edit", "edit", "edit", "remove"} {
		if ev := next(t, replay); ev.event != want {
			t.Fatalf("replay: %+v, want %s", ev, want)
		}
	}
}
