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

// lockSQL takes the advisory lock ($1, $2) until the transaction ends.
const lockSQL = `SELECT pg_advisory_xact_lock($1, $2)`

// advisoryLock is one transaction-level advisory lock: (space, id).
type advisoryLock struct{ space, id int32 }

// lockAndAdmit takes the write lock of kind, then refuses a banned or too
// busy author and otherwise records the action, all within tx.
func (s *Store) lockAndAdmit(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) error {
	record, err := s.admit(ctx, tx, kind, a, now, []advisoryLock{{writeLockSpace, writeLockIDs[kind]}})
	if err != nil {
		return err
	}
	return tx.SendBatch(ctx, record).Close()
}

// admitAuthor is lockAndAdmit for comments and edits, with two
// differences. It locks only the author's own subjects (their key and their
// IP), so authors are admitted side by side and one author's slow check
// never holds up another's comment. And it returns the record unsent, for
// the caller to add its write to and send in one round trip. Under a burst
// on busy cores each round trip waits for the client to be scheduled: a
// burst of 100 comments behind one lock for all, held over eight round
// trips each, queued for longer than a writer waits.
func (s *Store) admitAuthor(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time) (*pgx.Batch, error) {
	subjects := admit.Subjects(s.opt.Limits, kind, a)
	ids := make([]int32, 0, len(subjects))
	for _, subject := range subjects {
		ids = append(ids, subjectLock(kind, subject))
	}
	// One order for every transaction, so two that share a subject (or a
	// hash) cannot each hold what the other waits for.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	locks := make([]advisoryLock, len(ids))
	for i, id := range ids {
		locks[i] = advisoryLock{subjectLockSpace, id}
	}
	return s.admit(ctx, tx, kind, a, now, locks)
}

// admit takes locks, then asks admission's questions, all in one round
// trip, and returns the record of an admitted action as a batch to send.
func (s *Store) admit(ctx context.Context, tx pgx.Tx, kind string, a data.Author, now time.Time, locks []advisoryLock) (*pgx.Batch, error) {
	ad := &admission{tx: tx, locks: locks, record: &pgx.Batch{}}
	if err := admit.Check(ctx, ad, s.opt.Limits, kind, a, now); err != nil {
		return nil, err
	}
	return ad.record, nil
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

// admission answers admit.Check within one transaction: its locks go to
// the server with the questions, and its record waits in a batch for the
// write it admits.
type admission struct {
	tx     pgx.Tx
	locks  []advisoryLock
	record *pgx.Batch
}

func (ad *admission) Ask(ctx context.Context, kind string, a data.Author, now time.Time, windows []admit.Window) (bool, []time.Time, error) {
	b := &pgx.Batch{}
	for _, l := range ad.locks {
		b.Queue(lockSQL, l.space, l.id)
	}
	var found bool
	b.Queue(bannedSQL, a.KeyFingerprint, a.IP, now).QueryRow(func(r pgx.Row) error { return r.Scan(&found) })
	nth := make([]time.Time, len(windows))
	for i, w := range windows {
		b.Queue(`SELECT at FROM rate_events WHERE subject = $1 AND kind = $2 AND at > $3
			ORDER BY at DESC LIMIT 1 OFFSET $4`, w.Subject, kind, w.Since, w.Count-1).
			QueryRow(func(r pgx.Row) error {
				if err := r.Scan(&nth[i]); !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				return nil
			})
	}
	if err := ad.tx.SendBatch(ctx, b).Close(); err != nil {
		return false, nil, err
	}
	return found, nth, nil
}

func (ad *admission) Record(ctx context.Context, kind string, windows []admit.Window, now time.Time) error {
	for _, w := range windows {
		ad.record.Queue(`DELETE FROM rate_events WHERE subject = $1 AND kind = $2 AND at <= $3`, w.Subject, kind, w.Since)
		ad.record.Queue(`INSERT INTO rate_events (kind, subject, at) VALUES ($1, $2, $3)`, kind, w.Subject, now)
	}
	return nil
}
