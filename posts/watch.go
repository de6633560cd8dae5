package posts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// debounce lets an editor finish a save (truncate, write, rename)
	// before the directory is read again.
	debounce = 200 * time.Millisecond
	// pollEvery is the fallback when the OS cannot notify us.
	pollEvery = 2 * time.Second
)

// Watch reloads a Dir library whenever its directory changes, until ctx
// ends, and then returns nil. An embedded library never changes: Watch
// returns nil at once. It watches the directory, not the files, so editors
// that save by renaming a temporary file are seen too. If the OS cannot
// notify, it falls back to polling modification times every 2s.
func (l *Library) Watch(ctx context.Context) error {
	if l.dir == "" {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(l.dir); err == nil {
			return l.notify(ctx, w)
		}
		w.Close()
	}
	l.log.Warn("cannot watch posts directory, polling instead", "dir", l.dir, "every", pollEvery, "err", err)
	return l.poll(ctx, pollEvery)
}

// notify reloads after fsnotify events have been quiet for debounce.
func (l *Library) notify(ctx context.Context, w *fsnotify.Watcher) error {
	defer w.Close()
	l.reloadLogged() // catch changes made before the watch was set up
	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return l.poll(ctx, pollEvery)
			}
			if filepath.Clean(ev.Name) == filepath.Clean(l.dir) && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				// The watch died with the directory; polling sees it come back.
				l.log.Warn("posts directory moved or removed, polling", "dir", l.dir)
				return l.poll(ctx, pollEvery)
			}
			if ev.Op != fsnotify.Chmod { // chmod alone changes no content
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return l.poll(ctx, pollEvery)
			}
			// On overflow events were lost: reload to be sure.
			l.log.Warn("posts watcher error", "dir", l.dir, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				timer.Reset(debounce)
			}
		case <-timer.C:
			l.reloadLogged()
		}
	}
}

// poll reloads when the names, sizes or modification times of the *.md
// files change.
func (l *Library) poll(ctx context.Context, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := l.stamp()
	l.reloadLogged() // catch changes made before polling started
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			// A reload that kept the last posts (the directory is gone or
			// still changing) is tried again on the next tick.
			if s := l.stamp(); s != last && l.reloadLogged() {
				last = s
			}
		}
	}
}

// stamp summarises the directory's post files in a comparable string.
func (l *Library) stamp() string {
	entries, _ := os.ReadDir(l.dir)
	var b []byte
	for _, e := range entries {
		if !isPostFile(e.Name()) {
			continue
		}
		// Stat follows symlinks, as reading does.
		if st, err := os.Stat(filepath.Join(l.dir, e.Name())); err == nil {
			b = fmt.Appendf(b, "%s %d %d\n", e.Name(), st.Size(), st.ModTime().UnixNano())
		}
	}
	return string(b)
}

// reloadLogged keeps the last good snapshot if the directory cannot be read
// or is still changing, and reports whether the reload went through.
func (l *Library) reloadLogged() bool {
	if err := l.reload(); err != nil {
		l.log.Warn("posts not reloaded; keeping the posts already loaded", "dir", l.dir, "err", err)
		return false
	}
	return true
}
