package sqlite

import (
	"context"
	"database/sql"

	"blog/data"
)

// Reset deletes everything visitors wrote (comments, subscriptions, names)
// and the rate records, keeps bans, and tells viewers to reload.
func (s *Store) Reset(ctx context.Context) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"comments", "subscribers", "author_names", "rate_events"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.opt.Logger.Info("store reset")
	s.feed.Publish(data.Event{Kind: data.Resync})
	return nil
}
