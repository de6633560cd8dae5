package postgres

import (
	"context"
	"time"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const commentColumns = "id, post_slug, author_name, author_key, body, created_at, hidden"

// querier is the pool or the listener's own connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// AddComment checks and stores a comment and announces it, in one
// transaction. The transaction holds the comment write lock from before the
// ID is drawn until commit, so IDs become visible in increasing order and a
// listener catching up by ID never skips one that commits late.
func (s *Store) AddComment(ctx context.Context, nc data.NewComment) (data.Comment, error) {
	c, remember, err := input.Comment(nc, s.now())
	if err != nil {
		return data.Comment{}, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockAndAdmit(ctx, tx, admit.Comment, nc.Author, c.CreatedAt); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO comments (post_slug, author_name, author_key, body, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			c.PostSlug, c.AuthorName, c.AuthorKey, c.Body, c.CreatedAt).Scan(&c.ID)
		if err != nil {
			return err
		}
		if remember {
			if err := setName(ctx, tx, c.AuthorKey, c.AuthorName, c.CreatedAt); err != nil {
				return err
			}
		}
		return notify(ctx, tx, notice{Kind: notifyAdded, ID: c.ID})
	})
	if err != nil {
		return data.Comment{}, err
	}
	return c, nil
}

// Comments lists one post's comments, oldest first.
func (s *Store) Comments(ctx context.Context, slug string, opt data.ListOptions) ([]data.Comment, error) {
	cs, err := queryComments(ctx, s.pool, `SELECT `+commentColumns+` FROM comments
		WHERE post_slug = $1 AND id > $2 AND ($3 OR NOT hidden) ORDER BY id LIMIT $4`,
		slug, opt.AfterID, opt.IncludeHidden, data.PageSize(opt.Limit))
	return cs, markUnavailable(err)
}

// AllComments is the moderators' view: every post's comments after
// opt.AfterID, hidden ones included.
func (s *Store) AllComments(ctx context.Context, opt data.ListOptions) ([]data.Comment, error) {
	cs, err := commentsSince(ctx, s.pool, opt.AfterID, data.PageSize(opt.Limit))
	return cs, markUnavailable(err)
}

func commentsSince(ctx context.Context, q querier, afterID int64, limit int) ([]data.Comment, error) {
	return queryComments(ctx, q, `SELECT `+commentColumns+` FROM comments
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
}

func queryComments(ctx context.Context, q querier, sql string, args ...any) ([]data.Comment, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (data.Comment, error) {
		var c data.Comment
		err := row.Scan(&c.ID, &c.PostSlug, &c.AuthorName, &c.AuthorKey, &c.Body, &c.CreatedAt, &c.Hidden)
		c.CreatedAt = c.CreatedAt.UTC()
		return c, err
	})
}

// CommentCounts counts visible comments per post.
func (s *Store) CommentCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT post_slug, count(*) FROM comments WHERE NOT hidden GROUP BY post_slug`)
	if err != nil {
		return nil, markUnavailable(err)
	}
	counts := make(map[string]int)
	var slug string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&slug, &n}, func() error {
		counts[slug] = n
		return nil
	})
	if err != nil {
		return nil, markUnavailable(err)
	}
	return counts, nil
}

// DeleteOwnComment deletes comment id if key wrote it.
func (s *Store) DeleteOwnComment(ctx context.Context, id int64, key string) error {
	return s.change(ctx, notice{Kind: notifyChanged, ID: id, Deleted: true},
		`DELETE FROM comments WHERE id = $1 AND author_key = $2 AND author_key <> '' RETURNING post_slug`, id, key)
}

// SetHidden hides or shows comment id.
func (s *Store) SetHidden(ctx context.Context, id int64, hidden bool, by string) error {
	err := s.change(ctx, notice{Kind: notifyChanged, ID: id, Hidden: hidden},
		`UPDATE comments SET hidden = $2 WHERE id = $1 RETURNING post_slug`, id, hidden)
	if err == nil {
		s.opt.Logger.Info("comment hidden state set", "id", id, "hidden", hidden, "by", by)
	}
	return err
}

// DeleteComment deletes comment id for a moderator.
func (s *Store) DeleteComment(ctx context.Context, id int64, by string) error {
	err := s.change(ctx, notice{Kind: notifyChanged, ID: id, Deleted: true},
		`DELETE FROM comments WHERE id = $1 RETURNING post_slug`, id)
	if err == nil {
		s.opt.Logger.Info("comment deleted", "id", id, "by", by)
	}
	return err
}

// change runs a one-comment statement returning its post's slug and
// announces n with that slug; ErrNotFound when no comment matched.
func (s *Store) change(ctx context.Context, n notice, sql string, args ...any) error {
	return notFound(s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, sql, args...).Scan(&n.Slug); err != nil {
			return err
		}
		return notify(ctx, tx, n)
	}))
}

// DeleteCommentsBefore deletes comments created before t and, if any went,
// tells viewers to reload.
func (s *Store) DeleteCommentsBefore(ctx context.Context, t time.Time) (int64, error) {
	var tag pgconn.CommandTag
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if tag, err = tx.Exec(ctx, `DELETE FROM comments WHERE created_at < $1`, t); err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, tx, notice{Kind: notifyResync})
	})
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
