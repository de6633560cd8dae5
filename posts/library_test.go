package posts

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blog/internal/syncbuf"
)

func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	b := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

func post(title, date string, extra ...string) string {
	return "---\ntitle: " + title + "\ndate: " + date + "\n" + strings.Join(extra, "\n") + "\n---\nSome text.\n"
}

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDirSkipsMalformed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "old.md", post("Old", "2026-01-01"))
	writeFile(t, dir, "new.md", post("New", "2026-03-01"))
	writeFile(t, dir, "b-tie.md", post("B", "2026-02-01"))
	writeFile(t, dir, "a-tie.md", post("A", "2026-02-01"))
	writeFile(t, dir, "hidden.md", post("Hidden", "2026-04-01", "draft: true"))
	writeFile(t, dir, "broken.md", "---\ntitle: Broken\ndate: someday\n---\n")
	writeFile(t, dir, "Bad_Slug.md", post("Bad", "2026-01-01"))
	writeFile(t, dir, "notes.txt", "not a post")
	writeFile(t, dir, ".#old.md", "editor lock")

	log, logs := testLogger()
	lib, err := Dir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range lib.Published() {
		got = append(got, p.Slug)
	}
	if want := "new a-tie b-tie old"; strings.Join(got, " ") != want {
		t.Errorf("published %q, want %q", got, want)
	}
	if _, ok := lib.Get("hidden"); ok {
		t.Error("draft is gettable")
	}
	if p, ok := lib.Get("old"); !ok || p.Title != "Old" {
		t.Errorf("Get(old) = %+v, %v", p, ok)
	}
	if lib.Version() != 1 {
		t.Errorf("version %d", lib.Version())
	}
	out := logs.String()
	for _, want := range []string{"file=broken.md", "neither YYYY-MM-DD", "file=Bad_Slug.md", "only lowercase"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ".#old.md") || strings.Contains(out, "notes.txt") {
		t.Errorf("log mentions ignored files:\n%s", out)
	}
}

func TestDirMissing(t *testing.T) {
	if _, err := Dir(filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Fatal("no error for a missing directory")
	}
}

func TestEmbedded(t *testing.T) {
	log, logs := testLogger()
	lib, err := Embedded(log)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(lib.Published()); n < 3 {
		t.Fatalf("%d published posts, want >= 3", n)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("built-in posts have problems:\n%s", logs)
	}
	if _, ok := lib.Get("draft-ideas"); ok {
		t.Error("draft is published")
	}
	p, ok := lib.Get("go-for-backend-services")
	if !ok || p.Title != "Go for Backend Services: A Practical Overview" || p.Minutes < 3 {
		t.Errorf("go post: %+v %v", p.Title, p.Minutes)
	}
}

// --posts-dir never reads outside its directory: a link that points out is
// skipped with a log line naming it; one to a file inside is read.
func TestDirDoesNotFollowLinksOut(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, outside, "secret.md", post("Outside secret", "2026-01-01"))
	dir := t.TempDir()
	writeFile(t, dir, "inside.md", post("Inside", "2026-01-02"))
	for name, target := range map[string]string{
		"escape.md":   filepath.Join(outside, "secret.md"),
		"relative.md": filepath.Join("..", filepath.Base(outside), "secret.md"),
		"alias.md":    "inside.md",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("symlinks: %v", err)
		}
	}
	log, logs := testLogger()
	lib, err := Dir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lib.Published() {
		if p.Title == "Outside secret" {
			t.Fatalf("read %s from outside the posts directory", p.Slug)
		}
	}
	if _, ok := lib.Get("alias"); !ok {
		t.Error("a link to a file inside the directory was not read")
	}
	for _, name := range []string{"escape.md", "relative.md"} {
		if !strings.Contains(logs.String(), "file="+name) {
			t.Errorf("no log line names %s:\n%s", name, logs.String())
		}
	}
}

// A post dated in the future stays hidden until its date, then appears
// with a new version and a Changed signal, without a reload of the files.
func TestScheduledPost(t *testing.T) {
	dir := t.TempDir()
	soon := time.Now().Add(time.Hour)
	write := func(name, date string) {
		src := "---\ntitle: " + name + "\ndate: " + date + "\n---\n\nbody\n"
		if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("now", "2026-01-01")
	write("later", soon.UTC().Format(time.RFC3339))
	lib, err := Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	lib.now = func() time.Time { return clock }
	if ps := lib.Published(); len(ps) != 1 || ps[0].Slug != "now" {
		t.Fatalf("published %v; the future post must wait", ps)
	}
	if _, ok := lib.Get("later"); ok || !lib.NextScheduled().Equal(soon.UTC().Truncate(time.Second)) {
		t.Fatalf("Get(later) = %v; NextScheduled %v", ok, lib.NextScheduled())
	}
	v, changed := lib.Version(), lib.Changed()
	clock = soon.Add(time.Second)
	if ps := lib.Published(); len(ps) != 2 || ps[0].Slug != "later" {
		t.Fatalf("after its date: %v", ps)
	}
	select {
	case <-changed:
	default:
		t.Fatal("no Changed signal when the scheduled post appeared")
	}
	if lib.Version() != v+1 || !lib.NextScheduled().IsZero() {
		t.Fatalf("version %d (was %d), next %v", lib.Version(), v, lib.NextScheduled())
	}
}
