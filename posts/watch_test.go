package posts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eventually polls cond until it holds or 5s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func titleOf(lib *Library, slug string) string {
	p, _ := lib.Get(slug)
	return p.Title
}

// exerciseWatch runs add, edit, rename-save and remove against a watched dir.
func exerciseWatch(t *testing.T, watch func(*Library, context.Context) error) {
	dir := t.TempDir()
	writeFile(t, dir, "first.md", post("First", "2026-01-01"))
	log, _ := testLogger()
	lib, err := Dir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watch(lib, ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()

	v := lib.Version()
	writeFile(t, dir, "second.md", post("Second", "2026-02-01"))
	eventually(t, "added post", func() bool { return titleOf(lib, "second") == "Second" })
	if lib.Version() <= v {
		t.Errorf("version did not move: %d", lib.Version())
	}

	writeFile(t, dir, "first.md", post("First, edited", "2026-01-01"))
	eventually(t, "edited post", func() bool { return titleOf(lib, "first") == "First, edited" })

	// Editors such as vim save to a temporary file and rename it over.
	writeFile(t, dir, ".first.md.swp", post("First, renamed in", "2026-01-01"))
	if err := os.Rename(filepath.Join(dir, ".first.md.swp"), filepath.Join(dir, "first.md")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "renamed-in post", func() bool { return titleOf(lib, "first") == "First, renamed in" })

	if err := os.Remove(filepath.Join(dir, "second.md")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removed post", func() bool { _, ok := lib.Get("second"); return !ok })
	if n := len(lib.Published()); n != 1 {
		t.Errorf("%d published after removal, want 1", n)
	}
}

func TestWatchNotify(t *testing.T) {
	exerciseWatch(t, (*Library).Watch)
}

func TestWatchPoll(t *testing.T) {
	exerciseWatch(t, func(l *Library, ctx context.Context) error {
		return l.poll(ctx, 50*time.Millisecond)
	})
}

func TestWatchKeepsPostsWhenDirVanishes(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "posts")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "first.md", post("First", "2026-01-01"))
	log, logs := testLogger()
	lib, err := Dir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "second.md", post("Second", "2026-01-02"))
	if err := lib.reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go lib.Watch(ctx)
	// A reader watching all along never sees the blog thinned or empty.
	stopWatching := watchFewest(lib)

	// Whether the watch is up yet or not, it must end up polling.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fallback to polling", func() bool { return strings.Contains(logs.String(), "polling") })
	if n := stopWatching(); n != 2 {
		t.Fatalf("readers saw %d posts while the directory went, want the 2 kept", n)
	}
	if _, ok := lib.Get("first"); !ok {
		t.Fatal("posts dropped when the directory vanished")
	}
	// It comes back: the poller picks it up.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "again.md", post("Again", "2026-01-02"))
	eventually(t, "recreated dir", func() bool { return titleOf(lib, "again") == "Again" })
}

// watchFewest samples lib's published posts every millisecond until stop
// is called, which returns the fewest seen.
func watchFewest(lib *Library) (stop func() int) {
	n := len(lib.Published())
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			n = min(n, len(lib.Published()))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int { close(done); <-finished; return n }
}

// The race itself, made deterministic: a reload reads the directory midway
// through "rm -r" (one file gone, one left), and the directory is gone by
// the time the loss would be published. Nothing is published.
func TestReloadMidwayThroughRemoval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "posts")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "first.md", post("First", "2026-01-01"))
	writeFile(t, dir, "second.md", post("Second", "2026-01-02"))
	lib, err := Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := lib.Version()
	lib.settle = func() {
		if err := os.RemoveAll(dir); err != nil { // the rest of the rm -r
			t.Error(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "first.md")); err != nil {
		t.Fatal(err)
	}
	if err := lib.reload(); err == nil {
		t.Fatal("reload of a vanishing directory succeeded")
	}
	if n := len(lib.Published()); n != 2 || lib.Version() != v {
		t.Fatalf("%d posts published (version %d, was %d), want the 2 kept", n, lib.Version(), v)
	}
	// A directory that lost a file and holds still publishes the loss.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "second.md", post("Second", "2026-01-02"))
	lib.settle = func() {}
	if err := lib.reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Get("first"); ok || len(lib.Published()) != 1 {
		t.Fatalf("a settled removal was not published: %d posts", len(lib.Published()))
	}
}

func TestWatchEmbeddedReturns(t *testing.T) {
	lib, err := Embedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := lib.Watch(context.Background()); err != nil {
		t.Fatal(err)
	}
}
