package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"time"

	"blog/data"
	"blog/data/internal/admit"

	"github.com/jackc/pgx/v5"
)

// writeLockSpace is the first key of the write advisory locks (ASCII "blgw");
// the second is writeLockIDs[kind], or commentOrderLock.
//   - Subscribes and confirms take turns under their kind's lock, so a rate
//     check and its record cannot interleave with another's, and two
//     replicas never both decide to mail one address.
//   - New comments take commentOrderLock from their INSERT to their commit,
//     so comment IDs commit in order (see AddComment); deletions take it so
//     that no reply lands under a comment as it goes.
const writeLockSpace = 0x626c6777

var writeLockIDs = map[string]int32{admit.Subscribe: 2, admit.Confirm: 3}

// commentOrderLock is the second key of the comment order lock. It is 1,
// the comment kind's lock of old, so replicas of two versions that run side
// by side during a rolling update still exclude each other.
const commentOrderLock int32 = 1

// subjectLockSpace is the first key of the locks of one author's rate
// limits (ASCII "blgs"); the second is subjectLock(kind, subject).
const subjectLockSpace = 0x626c6773

// lockAndAdmit takes the write lock of kind, then refuses a banned or too
// busy author and otherwise records the action, all within tx.
func (s *Store) lockAndAdmit(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, writeLockSpace, writeLockIDs[kind]); err != nil {
		return err
	}
	return admit.Check(ctx, admitTx{tx}, s.opt.Limits, kind, a, now)
}

// admitAuthor is lockAndAdmit for comments and edits: it locks only the
// author's own subjects (their key and their IP), so authors are admitted
// side by side and one author's slow check never holds up another's
// comment. Under a burst on busy cores, each of a transaction's round trips
// waits for the client to be scheduled; behind one lock for all, a burst
// of 100 comments queued for longer than a writer waits.
func (s *Store) admitAuthor(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) error {
	subjects := admit.Subjects(s.opt.Limits, kind, a)
	ids := make([]int32, 0, len(subjects))
	for _, subject := range subjects {
		ids = append(ids, subjectLock(kind, subject))
	}
	// One order for every transaction, so two that share a subject (or a
	// hash) cannot each hold what the other waits for.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, subjectLockSpace, id)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return admit.Check(ctx, admitTx{tx}, s.opt.Limits, kind, a, now)
}

// subjectLock is the lock of one subject's limits on kind. Two subjects
// that hash alike only take turns, which is safe.
func subjectLock(kind, subject string) int32 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	return int32(h.Sum32())
}

// admitTx answers admit.Check within one transaction.
type admitTx struct{ tx pgx.Tx }

func (t admitTx) Banned(ctx context.Context, a data.Author, now time.Time) (bool, error) {
	return banned(ctx, t.tx, a, now)
}

func (t admitTx) NthNewest(ctx context.Context, kind, subject string, since time.Time, n int) (time.Time, bool, error) {
	var at time.Time
	err := t.tx.QueryRow(ctx, `SELECT at FROM rate_events
		WHERE subject = $1 AND kind = $2 AND at > $3 ORDER BY at DESC LIMIT 1 OFFSET $4`,
		subject, kind, since, n-1).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return at, err == nil, err
}

func (t admitTx) Record(ctx context.Context, kind, subject string, since, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM rate_events WHERE subject = $1 AND kind = $2 AND at <= $3`,
		subject, kind, since); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)`, kind, subject, now)
	return err
}
