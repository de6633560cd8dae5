package commands

import "blog/data"

// plainError words a storage error for a script's user, in the clause form
// of the one vocabulary in package data.
func plainError(err error) string {
	return data.Explain(err).Clause
}
