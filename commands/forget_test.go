package commands_test

import (
	"strings"
	"testing"
	"time"

	"blog/commands"
	"blog/data"
	"blog/internal/zone"
)

func TestForgetForgetsWhatTheKeyRead(t *testing.T) {
	b := newBlog(t, generousLimits())
	other := "SHA256:someone-else"
	for _, slug := range []string{goPost, "welcome"} {
		if err := b.store.MarkVisit(t.Context(), adaKey, data.Visit{PostSlug: slug, SeenID: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.store.MarkVisit(t.Context(), other, data.Visit{PostSlug: goPost}); err != nil {
		t.Fatal(err)
	}
	r := b.run(t, ada, nil, "forget")
	if r.code != 0 || r.err != "" || !strings.Contains(r.out, "Forgotten: what this key read of 2 posts.") {
		t.Fatalf("forget: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	if vs, _ := b.store.Visits(t.Context(), adaKey); len(vs) != 0 {
		t.Fatalf("visits left after forget: %+v", vs)
	}
	if vs, _ := b.store.Visits(t.Context(), other); len(vs) != 1 {
		t.Fatalf("forget took another key's visits: %+v", vs)
	}
	r = b.run(t, ada, nil, "forget")
	if r.code != 0 || !strings.Contains(r.out, "Nothing to forget: this key has no reading history here.") {
		t.Fatalf("second forget: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
}

func TestForgetWithoutKey(t *testing.T) {
	b := newBlog(t, generousLimits())
	r := b.run(t, keyless, nil, "forget")
	if r.code != 0 || r.err != "" || !strings.Contains(r.out, "without an SSH key, nothing of what you read is kept") {
		t.Fatalf("keyless forget: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
}

func TestCommentTimesInTheVisitorsZone(t *testing.T) {
	b := newBlog(t, generousLimits())
	c, err := b.store.AddComment(t.Context(), data.NewComment{PostSlug: goPost, Body: "hello", Author: ada})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := zone.Load("Europe/Berlin")
	for _, tc := range []struct {
		loc  *time.Location
		zone string
	}{{nil, "UTC"}, {berlin, c.CreatedAt.In(berlin).Format("MST")}} {
		r := b.runRequest(t, commands.Request{Args: []string{"comments", goPost}, Author: ada, Location: tc.loc})
		want := c.CreatedAt.In(map[bool]*time.Location{true: time.UTC, false: tc.loc}[tc.loc == nil]).Format("2006-01-02 15:04 ") + tc.zone
		if r.code != 0 || !strings.Contains(r.out, want) {
			t.Fatalf("zone %v: comments printed %q, want %q", tc.loc, r.out, want)
		}
	}
}
