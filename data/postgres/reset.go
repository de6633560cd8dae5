package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Reset deletes everything visitors wrote (comments, subscriptions, names, visits)
// and the rate records, keeps bans, and tells every replica to reload.
// Comment IDs are not restarted: listeners catch up by ID.
func (s *Store) Reset(ctx context.Context) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM comments; DELETE FROM subscribers;
			DELETE FROM author_names; DELETE FROM visits; DELETE FROM rate_events`); err != nil {
			return err
		}
		return notify(ctx, tx, notice{Kind: notifyResync})
	})
	if err == nil {
		s.opt.Logger.Info("store reset")
	}
	return err
}
