package sqlite

import (
	"context"
	"database/sql"
)

// Reset deletes everything visitors wrote (comments, subscriptions, names, visits)
// and the rate records, keeps bans, and tells every process's viewers to
// reload. Comment IDs are not restarted: watchers catch up by ID.
func (s *Store) Reset(ctx context.Context) error {
	err := s.changeTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"comments", "subscribers", "author_names", "visits", "rate_events"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
				return err
			}
		}
		return logChange(ctx, tx, change{kind: changeResync})
	})
	if err != nil {
		return err
	}
	s.opt.Logger.Info("store reset")
	return nil
}
