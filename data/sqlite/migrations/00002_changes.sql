-- +goose Up
-- changes is the log of what open sessions must hear about: every write that
-- changes what readers see adds a row in its own transaction, and every
-- process on the file reads the rows after the last one it delivered (see
-- changes.go). Rows carry no text a visitor wrote: new comments are read
-- back by ID. Old rows are pruned as new ones arrive.
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT, -- readers catch up by ID
    kind       TEXT    NOT NULL,                  -- 'added', 'changed' or 'resync'
    comment_id INTEGER NOT NULL DEFAULT 0,
    post_slug  TEXT    NOT NULL DEFAULT '',
    hidden     INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE changes;
