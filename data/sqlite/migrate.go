package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"

	"blog/data"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate brings the schema up to date. The single write connection means
// no second process-local migrator can interleave.
func migrate(ctx context.Context, db *sql.DB, opt data.Options) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSlog(opt.Logger))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
