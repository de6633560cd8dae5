package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"blog/data"
)

func testAddCommentNeedsKey(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	_, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "hi", Author: data.Author{IP: "192.0.2.1"}})
	if !errors.Is(err, data.ErrKeyRequired) {
		t.Fatalf("keyless AddComment: got %v, want ErrKeyRequired", err)
	}
	if got := list(t, s, "p", data.ListOptions{}); len(got) != 0 {
		t.Fatalf("keyless comment was stored: %v", got)
	}
}

func testAddCommentStores(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a := author("1")
	c := add(t, s, "hello-world", "secret-body one", a)
	if c.ID <= 0 || c.PostSlug != "hello-world" || c.AuthorName != "Reader" ||
		c.AuthorKey != a.KeyFingerprint || c.Body != "secret-body one" || c.Hidden {
		t.Fatalf("AddComment returned %+v", c)
	}
	if !c.CreatedAt.Equal(start) || c.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v in UTC (from Options.Now)", c.CreatedAt, start)
	}
	got := list(t, s, "hello-world", data.ListOptions{})
	if len(got) != 1 || !sameComment(got[0], c) {
		t.Fatalf("Comments = %+v, want [%+v]", got, c)
	}
	if other := list(t, s, "other", data.ListOptions{}); len(other) != 0 {
		t.Fatalf("another post lists %v", other)
	}
	s.clock.Advance(time.Second)
	if c2 := add(t, s, "hello-world", "two", a); c2.ID <= c.ID || !c2.CreatedAt.Equal(start.Add(time.Second)) {
		t.Fatalf("second comment %+v: want a larger ID and the clock's time", c2)
	}
}

func testAddCommentNames(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	a, b := author("1"), author("2")
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Body: "x", Author: a})
	if err != nil || c.AuthorName != data.DefaultName {
		t.Fatalf("no name: got %+v, %v; want AuthorName %q", c, err, data.DefaultName)
	}
	if n, err := s.Name(t.Context(), a.KeyFingerprint); err != nil || n != "" {
		t.Fatalf("Name after nameless comment = %q, %v; want none remembered", n, err)
	}
	if _, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Name: "  Ann   Lee ", Body: "x", Author: b}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Name(t.Context(), b.KeyFingerprint); err != nil || n != "Ann Lee" {
		t.Fatalf("Name = %q, %v; want the sanitised name remembered", n, err)
	}
}

func testAddCommentInvalid(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	cases := []data.NewComment{
		{PostSlug: "p", Body: " \n\t "},
		{PostSlug: "p", Body: strings.Repeat("a", data.MaxCommentRunes+1)},
		{PostSlug: "p", Body: "ok", Name: strings.Repeat("n", data.MaxNameRunes+1)},
		{PostSlug: "", Body: "ok"},
	}
	for _, nc := range cases {
		nc.Author = author("1")
		_, err := s.AddComment(t.Context(), nc)
		var inv *data.InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("AddComment(body %d bytes, name %d bytes, slug %q) = %v, want *InvalidError",
				len(nc.Body), len(nc.Name), nc.PostSlug, err)
		}
	}
	if got := list(t, s, "p", data.ListOptions{}); len(got) != 0 {
		t.Fatalf("invalid comments were stored: %v", got)
	}
}

func testHostileText(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	body := "hi\x1b[2J\x1b]0;pwned\x07 there\u202e\r\nline\x00two"
	name := "Eve\x1b[31m\nRed"
	c, err := s.AddComment(t.Context(), data.NewComment{PostSlug: "p", Name: name, Body: body, Author: author("1")})
	if err != nil {
		t.Fatal(err)
	}
	wantBody, _ := data.SanitizeComment(body)
	wantName, _ := data.SanitizeName(name)
	got := list(t, s, "p", data.ListOptions{})
	if len(got) != 1 || got[0].Body != wantBody || got[0].AuthorName != wantName || c.Body != wantBody {
		t.Fatalf("stored %+v, want body %q name %q", got, wantBody, wantName)
	}
	if strings.ContainsAny(got[0].Body+got[0].AuthorName, "\x1b\x00\r\u202e") {
		t.Fatalf("control characters survived: %q %q", got[0].AuthorName, got[0].Body)
	}
}

func testPaging(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	var want []int64
	for i := range 7 {
		want = append(want, add(t, s, "a", "a", author("1")).ID)
		if i%3 == 0 {
			add(t, s, "b", "b", author("2"))
		}
	}
	var got []int64
	after := int64(0)
	for {
		page := list(t, s, "a", data.ListOptions{AfterID: after, Limit: 3})
		if len(page) > 3 {
			t.Fatalf("page of %d with Limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, ids(page)...)
		after = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged ids %v, want %v", got, want)
	}
	if all := ids(list(t, s, "a", data.ListOptions{})); !slices.Equal(all, want) {
		t.Fatalf("default limit: %v, want %v", all, want)
	}
	if all := ids(list(t, s, "a", data.ListOptions{Limit: 100000})); !slices.Equal(all, want) {
		t.Fatalf("huge limit: %v, want %v", all, want)
	}
	for range 52 {
		add(t, s, "c", "c", author("3"))
	}
	if n := len(list(t, s, "c", data.ListOptions{})); n != 50 {
		t.Fatalf("Limit 0 returned %d comments, want the default 50", n)
	}
}

func testAllCommentsAfter(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	c1 := add(t, s, "a", "1", author("1"))
	c2 := add(t, s, "b", "2", author("1"))
	c3 := add(t, s, "a", "3", author("1"))
	if err := s.SetHidden(t.Context(), c2.ID, true, "SHA256:admin"); err != nil {
		t.Fatal(err)
	}
	got, err := s.AllComments(t.Context(), data.ListOptions{AfterID: c1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []int64{c2.ID, c3.ID}) || !got[0].Hidden || got[1].Hidden {
		t.Fatalf("AllComments(after %d) = %+v, want c2 (hidden) and c3", c1.ID, got)
	}
	if got, err := s.AllComments(t.Context(), data.ListOptions{Limit: 1}); err != nil || !slices.Equal(ids(got), []int64{c1.ID}) {
		t.Fatalf("AllComments(limit 1) = %v, %v", ids(got), err)
	}
}

func testDeleteCommentsBefore(t *testing.T, open Opener) {
	s := newEnv(t, open, noLimits())
	add(t, s, "a", "old", author("1"))
	add(t, s, "b", "old", author("1"))
	s.clock.Advance(time.Hour)
	fresh := add(t, s, "a", "new", author("1"))
	n, err := s.DeleteCommentsBefore(t.Context(), start.Add(30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteCommentsBefore = %d, %v; want 2", n, err)
	}
	all, err := s.AllComments(t.Context(), data.ListOptions{})
	if err != nil || !slices.Equal(ids(all), []int64{fresh.ID}) {
		t.Fatalf("left %v, %v; want only the new comment", ids(all), err)
	}
}
