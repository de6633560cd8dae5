package ui

import (
	"runtime"
	"testing"

	"blog/data"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

const benchPost = "go-for-backend-services"

// benchConfig is testConfig for benchmarks.
func benchConfig(b *testing.B, n int) *Config {
	cfg, _ := testConfig(b, n)
	return cfg
}

func benchSession() Session {
	return Session{
		Author: data.Author{KeyFingerprint: "SHA256:reader", IP: "192.0.2.2"},
		Look:   Look{Profile: termenv.ANSI256, Dark: true},
		Width:  100, Height: 40,
	}
}

// drain runs commands the way a program would, feeding their messages back
// into the model until nothing is left to do (storage calls included).
func drain(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			drain(m, c)
		}
	default:
		_, next := m.Update(msg)
		drain(m, next)
	}
}

// reader is a model with the Go post open and every comment loaded.
func reader(b testing.TB, cfg *Config) *Model {
	b.Helper()
	s := benchSession()
	s.Slug = benchPost
	m := New(cfg, s)
	drain(m, m.Init())
	for m.reader.thread.hasMore {
		drain(m, m.reader.thread.loadMore(m, benchPost))
	}
	if m.reader == nil || !m.reader.thread.firstPageLoaded {
		b.Fatal("post not open")
	}
	m.View()
	return m
}

func runeKey(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} }

// BenchmarkHomeView is one frame of the post list.
func BenchmarkHomeView(b *testing.B) {
	m := New(benchConfig(b, 0), benchSession())
	b.ReportAllocs()
	for b.Loop() {
		m.View()
	}
}

// BenchmarkOpenPost is opening the Go post with a warm render cache: what a
// session pays before its first reader frame (comments not included).
func BenchmarkOpenPost(b *testing.B) {
	cfg := benchConfig(b, 0)
	m := New(cfg, benchSession())
	p, _ := cfg.Posts.Get(benchPost)
	m.openPost(p)
	b.ReportAllocs()
	for b.Loop() {
		m.openPost(p)
		m.View()
	}
}

// BenchmarkReaderView is one frame of the Go post with 50 comments.
func BenchmarkReaderView(b *testing.B) {
	m := reader(b, benchConfig(b, 50))
	b.ReportAllocs()
	for b.Loop() {
		m.View()
	}
}

// BenchmarkThread1000 is a 1,000-comment thread: rebuilding its lines
// (after an event, a selection or a resize) and drawing it at the bottom.
func BenchmarkThread1000(b *testing.B) {
	m := reader(b, benchConfig(b, 1000))
	r := m.reader
	if len(r.thread.comments) != 1000 {
		b.Fatalf("%d comments loaded", len(r.thread.comments))
	}
	r.offset = r.maxOffset(m)
	b.Run("rebuild", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.thread.rebuild(m, r.width)
		}
	})
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.View()
		}
	})
}

// BenchmarkKeypress is the server's share of a keypress in the reader: one
// Update and the View the renderer takes after it (j and k in turn).
func BenchmarkKeypress(b *testing.B) {
	m := reader(b, benchConfig(b, 50))
	m.reader.offset = 40
	keys := []tea.KeyMsg{runeKey('j'), runeKey('k')}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		m.Update(keys[i%2])
		m.View()
		i++
	}
}

// BenchmarkCommentEvent is what one watcher costs when a comment arrives:
// a reader at the bottom of 50 comments takes the event and redraws.
func BenchmarkCommentEvent(b *testing.B) {
	cfg := benchConfig(b, 50)
	m := reader(b, cfg)
	m.reader.offset = m.reader.maxOffset(m)
	base := len(m.reader.thread.comments)
	c := m.reader.thread.comments[base-1]
	b.ReportAllocs()
	for b.Loop() {
		m.reader.thread.comments = m.reader.thread.comments[:base]
		c.ID++
		m.Update(EventMsg(data.Event{Kind: data.CommentAdded, Comment: c}))
		m.View()
	}
}

// BenchmarkModelMemory is the heap one reader model keeps: the Go post
// open with 50 comments, after one frame.
func BenchmarkModelMemory(b *testing.B) {
	cfg := benchConfig(b, 50)
	reader(b, cfg) // warm the render cache and the styles
	const k = 200
	var per float64
	for b.Loop() {
		before := heapInuse()
		models := make([]*Model, k)
		for i := range models {
			models[i] = reader(b, cfg)
		}
		per = (float64(heapInuse()) - float64(before)) / k
		runtime.KeepAlive(models)
	}
	b.ReportMetric(per, "B/model")
}

// heapInuse is the live heap after two collections (the second frees what
// sync.Pools kept through the first: the setup's migrations leave
// megabytes there). Live bytes, not the spans in use: those move by more
// than a model between runs, and fewer spans in use afterwards than before
// made the difference wrap around.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
