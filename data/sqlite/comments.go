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

const commentColumns = "id, post_slug, author_name, author_key, body, created_at, hidden"

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
		err := tx.QueryRowContext(ctx, `INSERT INTO comments
			(post_slug, author_name, author_key, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			c.PostSlug, c.AuthorName, c.AuthorKey, c.Body, micros(c.CreatedAt)).Scan(&c.ID)
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

// Comments lists one post's comments, oldest first.
func (s *Store) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	return s.queryComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE post_slug = ? AND id > ? AND (? OR NOT hidden) ORDER BY id LIMIT ?`,
		slug, opt.AfterID, opt.IncludeHidden, data.PageSize(opt.Limit))
}

// AllComments is the moderators' view: every post's comments after
// opt.AfterID, hidden ones included.
func (s *Store) AllComments(ctx context.Context, opt data.ListOptions) ([]data.Comment, error) {
	return s.queryComments(ctx, `SELECT `+commentColumns+` FROM comments
		WHERE id > ? ORDER BY id LIMIT ?`, opt.AfterID, data.PageSize(opt.Limit))
}

func (s *Store) queryComments(ctx context.Context, query string, args ...any) ([]data.Comment, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, markUnavailable(err)
	}
	defer rows.Close()
	var out []data.Comment
	for rows.Next() {
		var c data.Comment
		var at int64
		if err := rows.Scan(&c.ID, &c.PostSlug, &c.AuthorName, &c.AuthorKey, &c.Body, &at, &c.Hidden); err != nil {
			return nil, markUnavailable(err)
		}
		c.CreatedAt = fromMicros(at)
		out = append(out, c)
	}
	return out, markUnavailable(rows.Err())
}

// CommentCounts counts visible comments per post.
func (s *Store) CommentCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT post_slug, count(*) FROM comments WHERE NOT hidden GROUP BY post_slug`)
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
	return s.change(ctx, change{kind: changeChanged, commentID: id, deleted: true},
		`DELETE FROM comments WHERE id = ? AND author_key = ? AND author_key <> '' RETURNING post_slug`, id, key)
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
	err := s.change(ctx, change{kind: changeChanged, commentID: id, deleted: true},
		`DELETE FROM comments WHERE id = ? RETURNING post_slug`, id)
	if err == nil {
		s.opt.Logger.Info("comment deleted", "id", id, "by", by)
	}
	return err
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
