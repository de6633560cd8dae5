package commands

// SetCommentsPage makes `comments` load n comments a call until the
// returned function puts the page size back.
func SetCommentsPage(n int) (restore func()) {
	was := commentsPage
	commentsPage = n
	return func() { commentsPage = was }
}
