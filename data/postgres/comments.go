package postgres

import (
	"context"
	"errors"
	"time"

	"blog/data"
	"blog/data/internal/admit"
	"blog/data/internal/input"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const commentColumns = "id, post_slug, author_name, author_key, body, created_at, hidden, reply_to, edited_at, deleted"

// readerColumns are commentColumns for a page that may hold hidden
// placeholders: with $1 false (a reader), a hidden comment comes without
// its text or author.
const readerColumns = `id, post_slug,
	CASE WHEN hidden AND NOT $1 THEN '' ELSE author_name END,
	CASE WHEN hidden AND NOT $1 THEN '' ELSE author_key END,
	CASE WHEN hidden AND NOT $1 THEN '' ELSE body END,
	created_at, hidden, reply_to, edited_at, deleted`

// querier is the pool or the listener's own connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// AddComment checks and stores a comment and announces it, in one
// transaction. The transaction holds the comment order lock from before the
// ID is drawn until commit, so IDs become visible in increasing order and a
// listener catching up by ID never skips one that commits late. The checks
// before it lock only the author's own rate limits.
func (s *Store) AddComment(ctx context.Context, nc data.NewComment) (data.Comment, error) {
	c, remember, err := input.Comment(nc, s.now())
	if err != nil {
		return data.Comment{}, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		b, err := s.admitAuthor(ctx, tx, admit.Comment, nc.Author, c.CreatedAt)
		if err != nil {
			return err
		}
		// From here to the commit the comment order lock is held, so it is
		// one round trip and the commit: the record of the rate limits, the
		// lock, the insert (only under a parent that can be answered) with
		// its announcement, and the name go to the server together.
		// Deletions take the same lock, so the comment answered cannot go
		// between the insert and the commit. The payload is built in SQL,
		// since the ID is only known there; it is notice's JSON ("k", "id"),
		// which the listener decodes.
		b.Queue(lockSQL, writeLockSpace, commentOrderLock)
		b.Queue(`WITH added AS (
				INSERT INTO comments (post_slug, author_name, author_key, body, created_at, reply_to)
				SELECT $1::text, $2::text, $3::text, $4::text, $5::timestamptz, $6::bigint
				WHERE $6::bigint = 0 OR EXISTS (SELECT 1 FROM comments p
					WHERE p.id = $6::bigint AND p.post_slug = $1::text AND NOT p.hidden AND NOT p.deleted)
				RETURNING id)
			SELECT id, pg_notify($7, json_build_object('k', $8::text, 'id', id)::text) FROM added`,
			c.PostSlug, c.AuthorName, c.AuthorKey, c.Body, c.CreatedAt, c.ReplyTo, channel, notifyAdded).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&c.ID, nil)
				if errors.Is(err, pgx.ErrNoRows) {
					return input.NoParent()
				}
				return err
			})
		if remember {
			b.Queue(setNameSQL, c.AuthorKey, c.AuthorName, c.CreatedAt)
		}
		return tx.SendBatch(ctx, b).Close()
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		record, err := s.admitAuthor(ctx, tx, admit.Comment, e.Author, now)
		if err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, record).Close(); err != nil {
			return err
		}
		var created time.Time
		err = tx.QueryRow(ctx, `SELECT created_at FROM comments
			WHERE id = $1 AND author_key = $2 AND NOT hidden AND NOT deleted`, e.ID, e.Author.KeyFingerprint).Scan(&created)
		if err != nil {
			return notFound(err)
		}
		if now.Sub(created) > s.opt.EditWindow {
			return &data.EditClosedError{Window: s.opt.EditWindow}
		}
		cs, err := queryComments(ctx, tx, `UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1
			RETURNING `+commentColumns, e.ID, body, now)
		if err != nil || len(cs) != 1 {
			return notFound(err)
		}
		c = cs[0]
		return notify(ctx, tx, notice{Kind: notifyEdited, ID: c.ID, Slug: c.PostSlug})
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
	cs, err := queryComments(ctx, s.pool, `SELECT `+readerColumns+` FROM comments c
		WHERE post_slug = $2 AND id > $3 AND (NOT deleted AND ($1 OR NOT hidden)
			OR EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = c.id AND ($1 OR NOT r.hidden)))
		ORDER BY id LIMIT $4`,
		opt.IncludeHidden, slug, opt.AfterID, data.PageSize(opt.Limit))
	return cs, markUnavailable(err)
}

// AllComments is the moderators' view: every post's comments after
// opt.AfterID, hidden ones included, deleted placeholders not.
func (s *Store) AllComments(ctx context.Context, opt data.ListOptions) ([]data.Comment, error) {
	cs, err := queryComments(ctx, s.pool, `SELECT `+commentColumns+` FROM comments
		WHERE id > $1 AND NOT deleted ORDER BY id LIMIT $2`, opt.AfterID, data.PageSize(opt.Limit))
	return cs, markUnavailable(err)
}

// commentByID reads one comment, for the listener; none if it is gone.
func commentByID(ctx context.Context, q querier, id int64) ([]data.Comment, error) {
	return queryComments(ctx, q, `SELECT `+commentColumns+` FROM comments WHERE id = $1`, id)
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
		var edited *time.Time
		err := row.Scan(&c.ID, &c.PostSlug, &c.AuthorName, &c.AuthorKey, &c.Body, &c.CreatedAt, &c.Hidden,
			&c.ReplyTo, &edited, &c.Deleted)
		c.CreatedAt = c.CreatedAt.UTC()
		if edited != nil {
			c.EditedAt = edited.UTC()
		}
		return c, err
	})
}

// CommentCounts counts visible comments per post.
func (s *Store) CommentCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT post_slug, count(*) FROM comments WHERE NOT hidden AND NOT deleted GROUP BY post_slug`)
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
	if key == "" {
		return data.ErrNotFound
	}
	return s.deleteComment(ctx, id, key)
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
	err := s.deleteComment(ctx, id, "")
	if err == nil {
		s.opt.Logger.Info("comment deleted", "id", id, "by", by)
	}
	return err
}

// deleteComment deletes comment id (only if key wrote it, unless key is
// empty) and announces it. A comment with replies becomes a placeholder
// instead; a placeholder whose last reply goes goes too. It takes the
// comment order lock, so no reply can be added to a comment as it goes.
func (s *Store) deleteComment(ctx context.Context, id int64, key string) error {
	return notFound(s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockSQL, writeLockSpace, commentOrderLock); err != nil {
			return err
		}
		var slug string
		var parent int64
		err := tx.QueryRow(ctx, `UPDATE comments SET deleted = true, body = '', author_name = '', author_key = '', edited_at = NULL
			WHERE id = $1 AND ($2 = '' OR author_key = $2) AND NOT deleted
				AND EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = $1)
			RETURNING post_slug, reply_to`, id, key).Scan(&slug, &parent)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, `DELETE FROM comments
				WHERE id = $1 AND ($2 = '' OR author_key = $2) AND NOT deleted
				RETURNING post_slug, reply_to`, id, key).Scan(&slug, &parent)
			if err == nil && parent != 0 {
				err = dropPlaceholder(ctx, tx, parent)
			}
		}
		if err != nil {
			return err
		}
		return notify(ctx, tx, notice{Kind: notifyChanged, ID: id, Slug: slug, Deleted: true})
	}))
}

// dropPlaceholder deletes the placeholder id if no reply is left under it.
func dropPlaceholder(ctx context.Context, tx pgx.Tx, id int64) error {
	var slug string
	err := tx.QueryRow(ctx, `DELETE FROM comments WHERE id = $1 AND deleted
		AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.reply_to = $1) RETURNING post_slug`, id).Scan(&slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return notify(ctx, tx, notice{Kind: notifyChanged, ID: id, Slug: slug, Deleted: true})
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
