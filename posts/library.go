package posts

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed content/*.md
var content embed.FS

// maxFileSize keeps one stray file from filling memory on every reload.
const maxFileSize = 1 << 20

// Library is a concurrency-safe set of posts that can be reloaded.
// Readers never block: a reload builds a new snapshot and swaps it in.
type Library struct {
	fsys fs.FS
	dir  string // "" for the embedded posts, which never change
	log  *slog.Logger

	// settle waits as long as a directory that lost files must hold still
	// before the loss is published (see reload); tests replace it.
	settle func()

	reloadMu sync.Mutex // one reload at a time
	snap     atomic.Pointer[snapshot]
	now      func() time.Time
}

// snapshot is immutable once published.
type snapshot struct {
	version   uint64
	published []Post          // newest first
	bySlug    map[string]Post // published only
	// scheduled are the posts dated in the future, hidden until their
	// date; due is the earliest of those dates (zero: none).
	scheduled []Post
	due       time.Time
	files     map[string]string
	// replaced is closed when a newer snapshot takes this one's place.
	replaced chan struct{}
}

// Embedded returns the posts built into the binary.
func Embedded(log *slog.Logger) (*Library, error) {
	sub, err := fs.Sub(content, "content")
	if err != nil {
		return nil, err
	}
	return newLibrary(sub, "", log)
}

// Dir returns the posts in dir (its *.md files, not subdirectories). Files
// are read through an os.Root: nothing outside dir is ever read.
func Dir(dir string, log *slog.Logger) (*Library, error) {
	return newLibrary(nil, dir, log)
}

func newLibrary(fsys fs.FS, dir string, log *slog.Logger) (*Library, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Library{fsys: fsys, dir: dir, log: log.With("component", "posts"), settle: func() { time.Sleep(debounce) }, now: time.Now}
	l.snap.Store(&snapshot{replaced: make(chan struct{})})
	if err := l.reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Published returns the non-draft posts whose date has come, newest first
// (ties by title). The slice is shared by all callers: do not modify it.
func (l *Library) Published() []Post { return l.current().published }

// Get returns the published post with this slug.
func (l *Library) Get(slug string) (Post, bool) {
	p, ok := l.current().bySlug[slug]
	return p, ok
}

// NextScheduled is the date of the next post dated in the future (zero if
// none): it becomes published then.
func (l *Library) NextScheduled() time.Time { return l.current().due }

// current is the snapshot to read. Once a scheduled post is due, the first
// reader swaps in a snapshot that shows it (a change like any other: the
// version goes up and Changed fires), so no timer is needed.
func (l *Library) current() *snapshot {
	s := l.snap.Load()
	if s.due.IsZero() || l.now().Before(s.due) {
		return s
	}
	if l.reloadMu.TryLock() { // else a reload is running and will show it
		defer l.reloadMu.Unlock()
		if prev := l.snap.Load(); prev == s {
			next := &snapshot{version: s.version + 1, files: s.files, replaced: make(chan struct{})}
			next.split(append(slices.Clone(s.published), s.scheduled...), l.now())
			l.snap.Store(next)
			close(s.replaced)
			l.log.Info("scheduled post published", "version", next.version, "published", len(next.published))
		}
	}
	return l.snap.Load()
}

// split sorts posts newest first and sorts them into published (dated at or
// before now) and scheduled.
func (s *snapshot) split(posts []Post, now time.Time) {
	slices.SortFunc(posts, func(a, b Post) int {
		return cmp.Or(b.Date.Compare(a.Date), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Slug, b.Slug))
	})
	s.bySlug = map[string]Post{}
	s.published, s.scheduled, s.due = nil, nil, time.Time{}
	for _, p := range posts {
		if p.Date.After(now) {
			s.scheduled = append(s.scheduled, p)
			if s.due.IsZero() || p.Date.Before(s.due) {
				s.due = p.Date
			}
			continue
		}
		s.published = append(s.published, p)
		s.bySlug[p.Slug] = p
	}
}

// Changed returns a channel that is closed when the posts next change, so
// a watcher (the newsletter) needs no goroutine or ticker of its own. Take
// it before reading Published to miss nothing.
func (l *Library) Changed() <-chan struct{} { return l.snap.Load().replaced }

// Version is 1 after the first load and goes up by one on every reload
// that added, changed or removed a file, and when a scheduled post's date
// comes.
func (l *Library) Version() uint64 { return l.current().version }

// reload reads every post file and swaps in a new snapshot if any file
// changed. Malformed files are logged and skipped. A load that would drop
// posts is published only if the directory still holds the same files a
// settle period later: "rm -r" and moving the directory away remove the
// files one by one before the directory, and a reader must never see the
// blog empty, or thinned, because of that. The last good posts stay until
// the directory is back.
func (l *Library) reload() error {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()

	next, err := l.read()
	if err != nil {
		return err
	}
	prev := l.snap.Load()
	added, changed, removed := diffFiles(prev.files, next.files)
	if prev.version > 0 && len(added)+len(changed)+len(removed) == 0 {
		return nil
	}
	if prev.version > 0 && len(removed) > 0 && l.dir != "" {
		l.settle()
		again, err := l.read()
		if err != nil {
			return fmt.Errorf("posts went while the directory was read, keeping the last ones: %w", err)
		}
		if a, c, r := diffFiles(next.files, again.files); len(a)+len(c)+len(r) > 0 {
			return errors.New("posts directory still changing; keeping the last posts until it settles")
		}
	}
	next.version = prev.version + 1
	l.snap.Store(next)
	close(prev.replaced)
	l.log.Info("posts loaded", "from", l.where(), "version", next.version,
		"published", len(next.published), "added", added, "changed", changed, "removed", removed)
	return nil
}

// read loads every post file into a new, unpublished snapshot.
func (l *Library) read() (*snapshot, error) {
	fsys, done, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("posts: open %s: %w", l.where(), err)
	}
	defer done()
	// ReadDir, not Glob: Glob hides a vanished directory as "no posts".
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("posts: list %s: %w", l.where(), err)
	}
	next := &snapshot{files: map[string]string{}, replaced: make(chan struct{})}
	var all []Post
	for _, e := range entries {
		name := e.Name()
		if !isPostFile(name) {
			continue
		}
		p, ok, gone := l.load(fsys, name)
		if gone {
			continue // removed since the listing: counts as removed
		}
		next.files[name] = p.Revision
		if ok && !p.Draft {
			all = append(all, p)
		}
	}
	next.split(all, l.now())
	return next, nil
}

// open gives the files to read. A directory is opened afresh as an
// os.Root for each load: a directory removed and made again is the new
// one, and no name in it can lead outside it, whether through ".." or a
// symbolic link (a link to a file inside is read; one that points out is
// skipped with a log line naming it).
func (l *Library) open() (fs.FS, func(), error) {
	if l.dir == "" {
		return l.fsys, func() {}, nil
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, nil, err
	}
	return root.FS(), func() { root.Close() }, nil
}

// load reads and parses one file. A file that cannot be used is logged and
// reported as not ok; its revision still counts as a change when fixed.
// gone reports a file that vanished since the directory was listed.
func (l *Library) load(fsys fs.FS, name string) (p Post, ok, gone bool) {
	src, err := readFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return Post{}, false, true
	}
	if err != nil {
		l.log.Warn("post skipped", "file", name, "reason", err)
		return Post{}, false, false
	}
	p, warnings, err := parse(strings.TrimSuffix(name, ".md"), src)
	if err != nil {
		l.log.Warn("post skipped", "file", name, "reason", err)
		return Post{Revision: revision(src)}, false, false
	}
	for _, w := range warnings {
		l.log.Warn("post has a problem", "file", name, "reason", w)
	}
	return p, true, false
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxFileSize)
	}
	return src, nil
}

// isPostFile skips dot files, which editors use for locks and swap files.
func isPostFile(name string) bool {
	return strings.HasSuffix(name, ".md") && !strings.HasPrefix(name, ".")
}

func (l *Library) where() string {
	if l.dir == "" {
		return "embedded"
	}
	return l.dir
}

// diffFiles names the files added, changed and removed between two loads.
func diffFiles(prev, next map[string]string) (added, changed, removed []string) {
	for name, rev := range next {
		old, ok := prev[name]
		switch {
		case !ok:
			added = append(added, name)
		case old != rev:
			changed = append(changed, name)
		}
	}
	for name := range prev {
		if _, ok := next[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(added)
	slices.Sort(changed)
	slices.Sort(removed)
	return added, changed, removed
}
