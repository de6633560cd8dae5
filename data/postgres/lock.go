package postgres

import (
	"context"
	"hash/fnv"
	"time"
)

// jobLockSpace is the first key of job advisory locks (ASCII "blgj"); the
// second is a hash of the job's name. The two-key form never collides with
// goose's one-key migration lock.
const jobLockSpace = 0x626c676a

func jobLockID(name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32())
}

// TryLock runs fn while holding a session advisory lock on one pooled
// connection, unless another replica holds it. If that connection dies while
// fn runs, the lock is lost and another replica may start the same job.
func (s *Store) TryLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, markUnavailable(err)
	}
	id := jobLockID(name)
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, jobLockSpace, id).Scan(&locked); err != nil || !locked {
		conn.Release()
		return false, markUnavailable(err)
	}
	defer func() {
		// Unlock even if ctx is over. A connection that cannot unlock must
		// not go back to the pool still holding the lock: closing it frees it.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1, $2)`, jobLockSpace, id); err != nil {
			conn.Hijack().Close(unlockCtx)
			return
		}
		conn.Release()
	}()
	return true, fn(ctx)
}
