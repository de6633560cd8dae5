package web

import (
	"time"

	"blog/data"
)

// commentView is a comment as a page shows it: the sanitised text (and
// html/template escapes it again), the name as the terminal shows it, the
// key tag and the moderator's badge; where it sits in the conversation;
// or, for a placeholder, only what stands in for it.
type commentView struct {
	ID        int64
	Name      string
	Tag       string
	Mod       bool
	Body      string
	CreatedAt time.Time
	Edited    bool
	EditedAt  time.Time
	// Placeholder is "[deleted]" or "[hidden]" for a comment kept only
	// for the replies under it; it then shows nothing else.
	Placeholder string
	// Depth is 0 for a comment answering none, 1 for a reply.
	Depth int
	// To names the comment a reply to a reply answers (drawn at the same
	// depth as its parent, so the name tells them apart); ReplyTo is its id.
	To      string
	ReplyTo int64
	// Replies are a comment's replies, however deep, in the order posted.
	Replies []commentView
}

func (s *Site) commentView(c data.Comment) commentView {
	if c.Placeholder() {
		return commentView{ID: c.ID, Placeholder: placeholderText(c)}
	}
	return commentView{
		ID:        c.ID,
		Name:      data.DisplayName(c.AuthorName),
		Tag:       data.KeyTag(c.AuthorKey),
		Mod:       c.AuthorKey != "" && s.cfg.Moderator != nil && s.cfg.Moderator(c.AuthorKey),
		Body:      data.Displayable(c.Body),
		CreatedAt: c.CreatedAt,
		Edited:    !c.EditedAt.IsZero(),
		EditedAt:  c.EditedAt,
	}
}

func placeholderText(c data.Comment) string {
	if c.Deleted {
		return "[deleted]"
	}
	return "[hidden]"
}

// nameOf is the name a comment is known by in "replying to NAME".
func nameOf(c data.Comment) string {
	if c.Placeholder() {
		return placeholderText(c)
	}
	return data.DisplayName(c.AuthorName)
}

// visible reports whether c counts as a comment: placeholders do not, as
// in the terminal's "Comments (N)".
func visible(c data.Comment) bool { return !c.Hidden && !c.Deleted }

// conversation lays a reader's page of comments (oldest first) out as the
// terminal draws it (ui/thread.go): every comment that answers none, or
// one not on the page, in the order posted, each holding all the replies
// under it, however deep, in the order posted, one step in. A placeholder
// is kept only when a reply under it is shown.
func (s *Site) conversation(cs []data.Comment) []commentView {
	n := len(cs)
	at := make(map[int64]int, n)
	parent := make([]int, n) // the comment on the page that i answers, -1 for none
	root := make([]int, n)
	for i, c := range cs {
		parent[i], root[i] = -1, i
		if p, ok := at[c.ReplyTo]; ok && c.ReplyTo != 0 {
			parent[i], root[i] = p, root[p]
		}
		at[c.ID] = i
	}
	// Replies come after what they answer (ids only grow), so one pass
	// from the end marks every comment that a shown reply needs.
	shown := make([]bool, n)
	for i := n - 1; i >= 0; i-- {
		shown[i] = shown[i] || !cs[i].Placeholder()
		if shown[i] && parent[i] >= 0 {
			shown[parent[i]] = true
		}
	}
	var roots []commentView
	index := make(map[int]int) // roots' index in cs -> in roots
	for i, c := range cs {
		if !shown[i] {
			continue
		}
		v := s.commentView(c)
		if root[i] == i {
			index[i] = len(roots)
			roots = append(roots, v)
			continue
		}
		v.Depth = 1
		if p := parent[i]; root[p] != p {
			v.To, v.ReplyTo = nameOf(cs[p]), cs[p].ID
		}
		r := &roots[index[root[i]]]
		r.Replies = append(r.Replies, v)
	}
	return roots
}

// placed finds comment id in a laid-out conversation: its view (without
// its replies) and the id of the comment it is shown under (0 for none).
func placed(roots []commentView, id int64) (commentView, int64, bool) {
	for _, r := range roots {
		if r.ID == id {
			r.Replies = nil
			return r, 0, true
		}
		for _, v := range r.Replies {
			if v.ID == id {
				return v, r.ID, true
			}
		}
	}
	return commentView{}, 0, false
}
