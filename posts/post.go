// Package posts loads the blog's Markdown posts: files with YAML front matter,
// built in with go:embed or read from a directory that can be watched for
// changes. It knows nothing of terminals; rendering lives in ui/render.
package posts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Post is one parsed post.
type Post struct {
	Slug, Title, Summary string
	Date                 time.Time
	Tags                 []string
	Draft                bool
	Body                 string // Markdown after the front matter
	Minutes              int    // reading time, >= 1
	Revision             string // short hash of the file bytes
}

// wordsPerMinute is a common silent-reading pace for technical prose.
const wordsPerMinute = 200

// MaxSlugLen bounds slugs: they end up in URLs, commands and database rows.
const MaxSlugLen = 100

// ValidSlug reports why slug cannot name a post, or nil if it can.
// Slugs are lowercase ASCII letters, digits and '-', starting with a letter or digit.
func ValidSlug(slug string) error {
	if slug == "" {
		return errors.New("empty slug")
	}
	if len(slug) > MaxSlugLen {
		return fmt.Errorf("slug longer than %d characters", MaxSlugLen)
	}
	if slug[0] == '-' {
		return fmt.Errorf("slug %q starts with '-'", slug)
	}
	for _, r := range slug {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("slug %q has %q: only lowercase letters, digits and '-' are allowed", slug, r)
		}
	}
	return nil
}

// Parse parses a post file's bytes. Unknown front matter keys are ignored
// (a Library logs them).
func Parse(slug string, src []byte) (Post, error) {
	p, _, err := parse(slug, src)
	return p, err
}

// parse is Parse plus the warnings that do not make the post unusable.
func parse(slug string, src []byte) (Post, []string, error) {
	if err := ValidSlug(slug); err != nil {
		return Post{}, nil, err
	}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\uFEFF") // some editors save a BOM
	front, body, err := splitFrontMatter(text)
	if err != nil {
		return Post{}, nil, err
	}
	m, warnings, err := decodeFrontMatter(front)
	if err != nil {
		return Post{}, nil, err
	}
	body = cleanBody(strings.TrimLeft(body, "\n"))
	return Post{
		Slug:     slug,
		Title:    m.title,
		Summary:  m.summary,
		Date:     m.date,
		Tags:     m.tags,
		Draft:    m.draft,
		Body:     body,
		Minutes:  readingMinutes(body),
		Revision: revision(src),
	}, warnings, nil
}

// splitFrontMatter cuts "---\n<yaml>\n---\n<body>". The closing fence may
// also be "..." (YAML's end-of-document marker).
func splitFrontMatter(text string) (front, body string, err error) {
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return "", "", errors.New("no front matter: the file must start with a line \"---\"")
	}
	off := 0
	for _, line := range strings.SplitAfter(rest, "\n") {
		if l := strings.TrimRight(line, " \t\n"); l == "---" || l == "..." {
			return rest[:off], rest[off+len(line):], nil
		}
		off += len(line)
	}
	return "", "", errors.New("front matter is not closed by a line \"---\"")
}

// revision is a short content hash: 48 bits are plenty to tell the versions
// of one file apart, and it keys render caches.
func revision(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:6])
}

// readingMinutes counts every whitespace-separated word, code included,
// and rounds up so a short post still reads as one minute.
func readingMinutes(body string) int {
	words := len(strings.Fields(body))
	return max(1, (words+wordsPerMinute-1)/wordsPerMinute)
}

// cleanBody drops control characters other than tab and newline so a post
// cannot smuggle terminal escape sequences past the Markdown renderer.
func cleanBody(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// cleanLine is cleanBody for one-line fields, which also lose bidi
// overrides: a title is shown in lists next to other text.
func cleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n':
			return ' '
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
