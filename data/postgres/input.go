package postgres

import (
	"strings"

	"blog/data"
)

// maxSlugBytes bounds post slugs; it also keeps event payloads small.
const maxSlugBytes = 200

// checked is a NewComment after validation.
type checked struct {
	Body, Name string
	Remember   bool // a name was given, so it is remembered for the key
}

// checkComment refuses keyless, empty or overlong comments and sanitises
// what it accepts.
func checkComment(nc data.NewComment) (checked, error) {
	if nc.Author.KeyFingerprint == "" {
		return checked{}, data.ErrKeyRequired
	}
	if nc.PostSlug == "" || len(nc.PostSlug) > maxSlugBytes {
		return checked{}, &data.InvalidError{Field: "post", Reason: "is not a post"}
	}
	body, err := data.SanitizeComment(nc.Body)
	if err != nil {
		return checked{}, err
	}
	name, err := data.SanitizeName(nc.Name)
	if err != nil {
		return checked{}, err
	}
	return checked{Body: body, Name: name, Remember: strings.TrimSpace(nc.Name) != ""}, nil
}
