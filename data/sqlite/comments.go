package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"
)

const commentColumns = "id, post_slug, author_name, author_key, body, created_at, hidden, reply_to, edited_at, deleted"

// readerColumns are commentColumns for a page that may hold hidden
// placeholders: with ?1 false (a reader), a hidden comment comes without
// its text or author.
const readerColumns = `id, post_slug,
	CASE WHEN hidden AND NOT ?1 THEN '' ELSE author_name END,
	CASE WHEN hidden AND NOT ?1 THEN '' ELSE author_key END,
	CASE WHEN hidden AND NOT ?1 THEN '' ELSE body END,
	created_at, hidden, reply_to, edited_at, deleted`

// AddComment checks and stores c in one write transaction, then announces it.
func (s *Store) AddComment(ctx context.Context, nc data.NewComment) (data.Comment, error) {
	c, remember, err := input.Comment(nc, s.now())
	if err != nil {
		return data.Comment{}, err
	}
	err = s.changeTx(ctx, func(tx *sql.Tx) error {
		if err := admit.Check(ctx, admitTx{tx}, s.opt.Limits, admit.Comment, nc.Author, c.CreatedAt); err != nil {
			return err
		}
		if c.ReplyTo != 0 {
			var ok bool
			err := tx.QueryRowContext(ctx, `SELECT post_slug = ? AND NOT hidden AND NOT deleted FROM comments WHERE id = ?`,
				c.PostSlug, c.ReplyTo).Scan(&ok)
			if errors.Is(err, sql.ErrNoRows) || err == nil && !ok {
				return input.NoParent()
			}
			if err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO comments
			(post_slug, author_name, author_key, body, created_at, reply_to) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			c.PostSlug, c.AuthorName, c.AuthorKey, c.Body, micros(c.CreatedAt), c.ReplyTo).Scan(&c.ID)
		if err != nil {
			return err
		}
		if remember {
			if err := setName(ctx, tx, c.AuthorKey, c.AuthorName, c.CreatedAt); err != nil {
				return err
			}
		}
		return logChange(ctx, tx, change{kind: changeAdded, commentID: c.ID})
	})
	if err != nil {
		return data.Comment{}, err
	}
	return c, nil
}

// EditComment replaces the text of the author's own recent comment.
func (s *Store) EditComment(ctx context.Context, e data.CommentEdit) (data.Comment, error) {
	body, err := input.Edit(e)
	if err != nil {
		return data.Comment{}, err
	}
	now := s.now()
	var c data.Comment
	err = s.changeTx(ctx, func(tx *sql.Tx) error {
		if err := admit.Check(ctx, admitTx{tx}, s.opt.Limits, admit.Comment, e.Author, now); err != nil {
			return err
		}
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM comments
			WHERE id = ? AND author_key = ? AND NOT hidden AND NOT deleted`, e.ID, e.Author.KeyFingerprint).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return data.ErrNotFound
		}
		if err != nil {
			return err
		}
		if now.Sub(fromMicros(created)) > s.opt.EditWindow {
			return &data.EditClosedError{Window: s.opt.EditWindow}
		}
		c, err = scanComment(tx.QueryRowContext(ctx, `UPDATE comments SET body = ?, edited_at = ? WHERE id = ?
			RETURNING `+commentColumns, body, micros(now), e.ID))
		if err != nil {
			return err
		}
		return logChange(ctx, tx, change{kind: changeEdited, commentID: c.ID, slug: c.PostSlug})
	})
	if err != nil {
		return data.Comment{}, err
	}
	return c, nil
}

// Comments lists one post's comments, oldest first. A deleted comment, and
// for readers a hidden one, is listed only as a placeholder for a reply a
// reader can see.
func (s *Store) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	return s.queryComments(ctx, `SELECT `+readerColumns+` FROM comments c
		WHERE post_slug = ?2 AND id > ?3 AND (NOT deleted AND (?1 OR NOT hidden)
			OR EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = c.id AND (?1 OR NOT r.hidden)))
		ORDER BY id LIMIT ?4`,
		opt.IncludeHidden, slug, opt.AfterID, data.PageSize(opt.Limit))
}

// AllComments is the moderators' view: every post's comments after
// opt.AfterID, hidden ones included, deleted placeholders not.
func (s *Store) AllComments(ctx context.Context, opt data.ListOptions) ([]data.Comment, error) {
	return s.queryComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE id > ? AND NOT deleted ORDER BY id LIMIT ?`, opt.AfterID, data.PageSize(opt.Limit))
}

// row is a *sql.Row or *sql.Rows.
type row interface{ Scan(dest ...any) error }

// scanComment reads commentColumns (or readerColumns).
func scanComment(r row) (data.Comment, error) {
	var c data.Comment
	var at, edited int64
	if err := r.Scan(&c.ID, &c.PostSlug, &c.AuthorName, &c.AuthorKey, &c.Body, &at, &c.Hidden,
		&c.ReplyTo, &edited, &c.Deleted); err != nil {
		return data.Comment{}, err
	}
	c.CreatedAt = fromMicros(at)
	if edited != 0 {
		c.EditedAt = fromMicros(edited)
	}
	return c, nil
}

func (s *Store) queryComments(ctx context.Context, query string, args ...any) ([]data.Comment, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.Comment
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return nil, markUnavailable(err)
		}
		out = append(out, c)
	}
	return out, markUnavailable(rows.Err())
}

// CommentCounts counts visible comments per post.
func (s *Store) CommentCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT post_slug, count(*) FROM comments WHERE NOT hidden AND NOT deleted GROUP BY post_slug`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	counts := make(map[string]int)
	for rows.Next() {
		var slug string
		var n int
		if err := rows.Scan(&slug, &n); err != nil {
			return nil, markUnavailable(err)
		}
		counts[slug] = n
	}
	return counts, markUnavailable(rows.Err())
}

// DeleteOwnComment deletes comment id if key wrote it.
func (s *Store) DeleteOwnComment(ctx context.Context, id int64, key string) error {
	if key == "" {
		return data.ErrNotFound
	}
	return s.deleteComment(ctx, id, key)
}

// SetHidden hides or shows comment id.
func (s *Store) SetHidden(ctx context.Context, id int64, hidden bool, by string) error {
	err := s.change(ctx, change{kind: changeChanged, commentID: id, hidden: hidden},
		`UPDATE comments SET hidden = ? WHERE id = ? RETURNING post_slug`, hidden, id)
	if err == nil {
		s.opt.Logger.Info("comment hidden state set", "id", id, "hidden", hidden, "by", by)
	}
	return err
}

// DeleteComment deletes comment id for a moderator.
func (s *Store) DeleteComment(ctx context.Context, id int64, by string) error {
	err := s.deleteComment(ctx, id, "")
	if err == nil {
		s.opt.Logger.Info("comment deleted", "id", id, "by", by)
	}
	return err
}

// deleteComment deletes comment id (only if key wrote it, unless key is
// empty) and announces it. A comment with replies becomes a placeholder
// instead; a placeholder whose last reply goes goes too.
func (s *Store) deleteComment(ctx context.Context, id int64, key string) error {
	err := s.changeTx(ctx, func(tx *sql.Tx) error {
		var slug string
		var parent int64
		err := tx.QueryRowContext(ctx, `UPDATE comments SET deleted = 1, body = '', author_name = '', author_key = '', edited_at = 0
			WHERE id = ?1 AND (?2 = '' OR author_key = ?2) AND NOT deleted
				AND EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = ?1)
			RETURNING post_slug, reply_to`, id, key).Scan(&slug, &parent)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `DELETE FROM comments
				WHERE id = ?1 AND (?2 = '' OR author_key = ?2) AND NOT deleted
				RETURNING post_slug, reply_to`, id, key).Scan(&slug, &parent)
			if err == nil && parent != 0 {
				err = s.dropPlaceholder(ctx, tx, parent)
			}
		}
		if err != nil {
			return err
		}
		return logChange(ctx, tx, change{kind: changeChanged, commentID: id, slug: slug, deleted: true})
	})
	if errors.Is(err, sql.ErrNoRows) {
		return data.ErrNotFound
	}
	return err
}

// dropPlaceholder deletes the placeholder id if no reply is left under it.
func (s *Store) dropPlaceholder(ctx context.Context, tx *sql.Tx, id int64) error {
	var slug string
	err := tx.QueryRowContext(ctx, `DELETE FROM comments WHERE id = ?1 AND deleted
		AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = ?1) RETURNING post_slug`, id).Scan(&slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return logChange(ctx, tx, change{kind: changeChanged, commentID: id, slug: slug, deleted: true})
}

// change runs a one-comment statement returning its post's slug and logs c
// with that slug, in one transaction; ErrNotFound when no comment matched.
func (s *Store) change(ctx context.Context, c change, query string, args ...any) error {
	err := s.changeTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&c.slug); err != nil {
			return err
		}
		return logChange(ctx, tx, c)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return data.ErrNotFound
	}
	return err
}

// DeleteCommentsBefore deletes comments created before t and, if any went,
// tells viewers to reload.
func (s *Store) DeleteCommentsBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.changeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM comments WHERE created_at < ?`, micros(t))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return logChange(ctx, tx, change{kind: changeResync})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
