package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"blog/data"
)

// Live comments: each open post page holds one Server-Sent Events stream
// (/posts/SLUG/events). The server's hub hands every comment event to
// Event; Run turns it into one frame, shared by every stream of that post,
// and keeps the last frames in a ring so a page that reconnects (the
// browser sends Last-Event-ID) catches up, or reloads the thread when it
// was away too long. Ids are "BOOT.SEQ": BOOT is random per process, so an
// id from another replica or before a restart also means a reload.
const (
	// DefaultMaxStreams is how many streams a site holds at once, below
	// MaxConns so that pages still load when every stream is taken.
	DefaultMaxStreams = 256
	// DefaultMaxStreamsPerIP keeps one visitor from taking them all.
	DefaultMaxStreamsPerIP = 8

	eventQueue     = 1024             // events waiting for Run before the streams resync
	streamBuffer   = 32               // frames a stream may fall behind before it is cut
	ringFrames     = 256              // frames kept for catching up
	ringBytes      = 1 << 20          // and their bytes
	heartbeatEvery = 25 * time.Second // a comment line on streams that sent nothing for this long
	streamWrite    = 10 * time.Second // a stream whose reader takes nothing this long is cut
	streamLifetime = time.Hour        // then the browser reconnects, with Last-Event-ID
	maxEventID     = 64
)

var errFull = errors.New("too many live streams")

// frame is one event as written on the wire; seq 0 is a heartbeat.
type frame struct {
	seq  uint64
	post string
	data []byte
}

var heartbeat = &frame{data: []byte(": keep-alive\n\n")}

type stream struct {
	post, ip string
	ch       chan *frame
	done     chan struct{}
	once     sync.Once
	last     atomic.Int64 // when it last wrote, in Unix nanoseconds
}

// cut ends the stream; its handler returns and the browser reconnects.
func (st *stream) cut() { st.once.Do(func() { close(st.done) }) }

// streams are the open streams of a site and the ring of recent frames.
type streams struct {
	boot          string
	max, maxPerIP int

	mu     sync.Mutex
	seq    uint64
	ring   []*frame // oldest first
	bytes  int
	floor  uint64 // frames up to floor may be missing from the ring
	byPost map[string]map[*stream]struct{}
	perIP  map[string]int
	opened int
	closed bool
}

func newStreams(maxStreams, maxPerIP int) *streams {
	if maxStreams <= 0 {
		maxStreams = DefaultMaxStreams
	}
	if maxPerIP <= 0 {
		maxPerIP = DefaultMaxStreamsPerIP
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &streams{boot: hex.EncodeToString(b), max: maxStreams, maxPerIP: maxPerIP,
		byPost: map[string]map[*stream]struct{}{}, perIP: map[string]int{}}
}

// position is the id of the last frame, where a page rendered now
// starts following.
func (l *streams) position() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id(l.seq)
}

func (l *streams) id(seq uint64) string { return l.boot + "." + strconv.FormatUint(seq, 10) }

// parse reads an id of this process.
func (l *streams) parse(id string) (uint64, bool) {
	boot, n, ok := strings.Cut(id, ".")
	if !ok || boot != l.boot {
		return 0, false
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	return seq, err == nil
}

// canReplay reports whether the ring holds every frame after id.
func (l *streams) canReplay(id string) bool {
	seq, ok := l.parse(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	return ok && seq >= l.floor && seq <= l.seq
}

// open registers a stream of post and returns the frames of post after
// since that it must write first; frames published later go to its
// channel.
func (l *streams) open(post, ip, since string) (*stream, []*frame, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.opened >= l.max || l.perIP[ip] >= l.maxPerIP {
		return nil, nil, errFull
	}
	st := &stream{post: post, ip: ip, ch: make(chan *frame, streamBuffer), done: make(chan struct{})}
	st.last.Store(time.Now().UnixNano())
	l.opened++
	l.perIP[ip]++
	if l.byPost[post] == nil {
		l.byPost[post] = map[*stream]struct{}{}
	}
	l.byPost[post][st] = struct{}{}
	var replay []*frame
	if seq, ok := l.parse(since); ok {
		for _, f := range l.ring {
			if f.seq > seq && f.post == post {
				replay = append(replay, f)
			}
		}
	}
	return st, replay, nil
}

func (l *streams) close(st *stream) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st.cut()
	if _, ok := l.byPost[st.post][st]; !ok {
		return
	}
	delete(l.byPost[st.post], st)
	if len(l.byPost[st.post]) == 0 {
		delete(l.byPost, st.post)
	}
	l.opened--
	if l.perIP[st.ip]--; l.perIP[st.ip] == 0 {
		delete(l.perIP, st.ip)
	}
}

// closeAll ends every stream and refuses new ones (the site is stopping).
func (l *streams) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, set := range l.byPost {
		for st := range set {
			st.cut()
		}
	}
}

// watched are the posts with open streams.
func (l *streams) watched() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.byPost))
	for p := range l.byPost {
		out = append(out, p)
	}
	return out
}

// publish sends one event to every stream of post and keeps it in the
// ring. A stream too far behind to take it is cut; it catches up when the
// browser reconnects.
func (l *streams) publish(post, event string, payload any) {
	b, err := json.Marshal(payload) // one line: JSON escapes newlines
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	f := l.frame(l.seq, post, event, b)
	l.ring = append(l.ring, f)
	l.bytes += len(f.data)
	for len(l.ring) > ringFrames || l.bytes > ringBytes {
		l.floor = l.ring[0].seq
		l.bytes -= len(l.ring[0].data)
		l.ring[0] = nil
		l.ring = l.ring[1:]
	}
	for st := range l.byPost[post] {
		select {
		case st.ch <- f:
		default:
			st.cut()
		}
	}
}

func (l *streams) frame(seq uint64, post, event string, data []byte) *frame {
	var buf bytes.Buffer
	buf.Grow(len(data) + 64)
	buf.WriteString("id: ")
	buf.WriteString(l.id(seq))
	buf.WriteString("\nevent: ")
	buf.WriteString(event)
	buf.WriteString("\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
	return &frame{seq: seq, post: post, data: buf.Bytes()}
}

// forget makes every earlier id ask for a reload (the store resynced).
func (l *streams) forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.floor = l.seq
	clear(l.ring)
	l.ring, l.bytes = nil, 0
}

// beat sends a heartbeat to the streams that have been quiet for a
// while, so proxies keep them open and dead readers are found; a stream
// that writes events needs none. One ticker for all streams.
func (l *streams) beat(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	quiet := now.Add(-heartbeatEvery + time.Second).UnixNano()
	for _, set := range l.byPost {
		for st := range set {
			if st.last.Load() < quiet {
				select {
				case st.ch <- heartbeat:
				default:
				}
			}
		}
	}
}

// commentPayload is a frame's data. "comment" carries a new comment's
// HTML and, for a reply, the comment it goes under (Parent); "edit" the
// HTML that replaces a comment (edited, or now a placeholder, which keeps
// the replies under it) and the name replies to it give (Name); "remove"
// the comment that goes and the placeholders still needed (Keep, so a page
// drops one whose last reply went); "thread" the whole thread.
type commentPayload struct {
	ID     int64   `json:"id"`
	Parent int64   `json:"parent,omitempty"`
	Name   string  `json:"name,omitempty"`
	Keep   []int64 `json:"keep,omitempty"`
	HTML   string  `json:"html,omitempty"`
}

// Run streams the events given to Event until ctx ends, and then closes
// every stream.
func (s *Site) Run(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	defer s.live.closeAll()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.live.beat(now)
		case ev := <-s.queue:
			s.stream(ctx, ev)
			if s.overflow.Swap(false) {
				s.stream(ctx, data.Event{Kind: data.Resync})
			}
		}
	}
}

// stream turns one event into a frame for the post's pages.
func (s *Site) stream(ctx context.Context, ev data.Event) {
	c := ev.Comment
	if ev.Kind != data.Resync {
		if _, ok := s.cfg.Posts.Get(c.PostSlug); !ok {
			return
		}
	}
	switch {
	case ev.Kind == data.Resync:
		s.live.forget()
		for _, slug := range s.live.watched() {
			s.publishThread(ctx, slug)
		}
	case ev.Kind == data.CommentAdded && c.Hidden:
		// Nothing a reader sees.
	case ev.Kind == data.CommentAdded && c.ReplyTo == 0:
		// A comment answering none needs no context: no query.
		s.publishComment(c.PostSlug, "comment", commentPayload{ID: c.ID}, s.commentView(c))
	case ev.Kind == data.CommentAdded, ev.Kind == data.CommentEdited:
		s.publishPlaced(ctx, ev)
	case ev.Deleted || c.Hidden:
		s.publishGone(ctx, c)
	default:
		// Shown again: its text is not in the event, so the pages take
		// the thread afresh.
		s.publishThread(ctx, c.PostSlug)
	}
}

// publishComment renders v and publishes it with p.
func (s *Site) publishComment(slug, event string, p commentPayload, v commentView) {
	var buf bytes.Buffer
	if err := s.pages["thread"].ExecuteTemplate(&buf, "comment", v); err != nil {
		s.cfg.Log.Error("web: a comment could not be rendered", "err", err)
		return
	}
	p.HTML = buf.String()
	s.live.publish(slug, event, p)
}

// freshThread queries slug's thread for Run: itself (not from the cache,
// nor by joining a query a page began before the event), after every
// earlier event was published, so it is at least as new as they are. On
// failure the pages reload it on their next reconnect.
func (s *Site) freshThread(ctx context.Context, slug string) (*thread, bool) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t, err := s.loadThread(ctx, slug)
	if err != nil {
		s.cfg.Log.Warn("web: a thread could not be loaded for its live pages", "err", err)
		s.live.forget()
		return nil, false
	}
	return t, true
}

// publishPlaced sends a new reply, or an edited comment, where the
// thread shows it: a reply goes under the comment it is shown with, and a
// reply to a reply names whom it answers, which takes the thread.
func (s *Site) publishPlaced(ctx context.Context, ev data.Event) {
	c := ev.Comment
	t, ok := s.freshThread(ctx, c.PostSlug)
	if !ok {
		return
	}
	v, parent, found := placed(t.roots, c.ID)
	switch {
	case found:
	case len(t.comments) < data.MaxPageSize:
		return // gone since (a later event says so), or never for readers
	default:
		// Past the first page, where pages add what comes in at the end.
		v = s.commentView(c)
	}
	if ev.Kind == data.CommentEdited {
		s.publishComment(c.PostSlug, "edit", commentPayload{ID: c.ID}, v)
		return
	}
	s.publishComment(c.PostSlug, "comment", commentPayload{ID: c.ID, Parent: parent}, v)
}

// publishGone sends a deleted or hidden comment's going. One with replies
// stays as a placeholder, in place with its replies. Any other goes, and
// with it each placeholder its last reply was; when that leaves a reply
// whose parent is not on the page (a hidden reply to a deleted comment),
// the replies move, so the pages take the thread afresh.
func (s *Site) publishGone(ctx context.Context, c data.Comment) {
	t, ok := s.freshThread(ctx, c.PostSlug)
	if !ok {
		return
	}
	if v, _, found := placed(t.roots, c.ID); found {
		s.publishComment(c.PostSlug, "edit", commentPayload{ID: c.ID, Name: v.Placeholder}, v)
		return
	}
	on := make(map[int64]bool, len(t.comments))
	for _, x := range t.comments {
		on[x.ID] = true
		if x.ReplyTo != 0 && !on[x.ReplyTo] {
			s.live.publish(c.PostSlug, "thread", commentPayload{HTML: string(t.HTML)})
			return
		}
	}
	var keep []int64
	for _, r := range t.roots {
		for _, v := range append([]commentView{r}, r.Replies...) {
			if v.Placeholder != "" {
				keep = append(keep, v.ID)
			}
		}
	}
	s.live.publish(c.PostSlug, "remove", commentPayload{ID: c.ID, Keep: keep})
}

// publishThread sends a post's whole thread, queried afresh.
func (s *Site) publishThread(ctx context.Context, slug string) {
	if t, ok := s.freshThread(ctx, slug); ok {
		s.live.publish(slug, "thread", commentPayload{HTML: string(t.HTML)})
	}
}

// events is a post's live stream.
func (s *Site) events(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if _, ok := s.cfg.Posts.Get(slug); !ok {
		s.notFound(w, r)
		return
	}
	since := r.Header.Get("Last-Event-ID")
	if since == "" {
		since = r.URL.Query().Get("since")
	}
	if len(since) > maxEventID {
		since = "-"
	}
	// A page that was away longer than the ring reaches, or that came
	// from another process, reloads the thread first.
	var reload *frame
	if since != "" && !s.live.canReplay(since) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
		t, err := s.threadOf(ctx, slug)
		cancel()
		if err != nil {
			s.fail(w, err)
			return
		}
		b, _ := json.Marshal(commentPayload{HTML: string(t.HTML)})
		seq, _ := s.live.parse(t.Since)
		reload = s.live.frame(seq, slug, "thread", b)
		since = t.Since
	}
	st, replay, err := s.live.open(slug, clientIP(r), since)
	if err != nil {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live pages are open; reload later", http.StatusServiceUnavailable)
		return
	}
	defer s.live.close(st)

	rc := http.NewResponseController(w)
	// The request has no body; the server's read deadline would end the
	// stream. Writes get their own deadline below.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
		if _, err := w.Write(b); err != nil {
			return false
		}
		if rc.Flush() != nil {
			return false
		}
		st.last.Store(time.Now().UnixNano())
		return true
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead || !write([]byte("retry: 3000\n\n")) {
		return
	}
	var sent uint64
	if reload != nil {
		if !write(reload.data) {
			return
		}
		sent = reload.seq
	}
	for _, f := range replay {
		if !write(f.data) {
			return
		}
		sent = f.seq
	}
	life := time.NewTimer(streamLifetime)
	defer life.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-st.done:
			return
		case <-life.C:
			return
		case f := <-st.ch:
			if f.seq != 0 && f.seq <= sent {
				continue
			}
			if !write(f.data) {
				return
			}
			if f.seq != 0 {
				sent = f.seq
			}
		}
	}
}
