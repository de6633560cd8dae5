package posts

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// frontMatter holds the checked values of a post's front matter.
type frontMatter struct {
	title, summary string
	date           time.Time
	tags           []string
	draft          bool
}

// decodeFrontMatter checks the YAML between the fences. Unknown keys and a
// leniently accepted colon in a plain value come back as warnings.
func decodeFrontMatter(front string) (frontMatter, []string, error) {
	var warnings []string
	var doc yaml.Node
	err := yaml.Unmarshal([]byte(front), &doc)
	if err != nil {
		// "title: Go: A Tour" is invalid YAML but what people write; accept it
		// when quoting such values is all it takes, and say so.
		fixed, keys := quoteColonValues(front)
		if len(keys) == 0 || yaml.Unmarshal([]byte(fixed), &doc) != nil {
			return frontMatter{}, nil, fmt.Errorf("front matter: %w", err)
		}
		warnings = append(warnings, fmt.Sprintf("front matter: quote the values of %s (they contain \": \")", strings.Join(keys, ", ")))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return frontMatter{}, nil, errors.New("front matter is not a mapping of keys to values")
	}
	var m frontMatter
	var hasDate bool
	fields := doc.Content[0].Content
	for i := 0; i+1 < len(fields); i += 2 {
		key, val := fields[i].Value, fields[i+1]
		switch key {
		case "title":
			m.title, err = scalar(val)
			m.title = cleanLine(m.title)
		case "summary":
			m.summary, err = scalar(val)
			m.summary = cleanLine(m.summary)
		case "date":
			m.date, err = parseDate(val)
			hasDate = err == nil
		case "tags":
			m.tags, err = tagList(val)
		case "draft":
			err = val.Decode(&m.draft)
		default:
			warnings = append(warnings, fmt.Sprintf("front matter: unknown key %q ignored", key))
			continue
		}
		if err != nil {
			return frontMatter{}, nil, fmt.Errorf("front matter %q (line %d): %w", key, val.Line, err)
		}
	}
	if m.title == "" {
		return frontMatter{}, nil, errors.New("front matter: missing title")
	}
	if !hasDate {
		return frontMatter{}, nil, errors.New("front matter: missing date")
	}
	return m, warnings, nil
}

// scalar returns a plain value; null reads as empty.
func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value")
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

// parseDate accepts 2006-01-02 (midnight UTC) and RFC 3339.
func parseDate(n *yaml.Node) (time.Time, error) {
	s, err := scalar(n)
	if err != nil {
		return time.Time{}, err
	}
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is neither YYYY-MM-DD nor RFC 3339", s)
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("date %q is the zero time", s)
	}
	return t, nil
}

// tagList accepts a YAML list or a comma-separated string, and returns the
// tags lowercased, trimmed and without repeats.
func tagList(n *yaml.Node) ([]string, error) {
	var raw []string
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s, err := scalar(c)
			if err != nil {
				return nil, fmt.Errorf("tag: %w", err)
			}
			raw = append(raw, s)
		}
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			raw = strings.Split(n.Value, ",")
		}
	default:
		return nil, errors.New("want a list such as [go, backend]")
	}
	var tags []string
	for _, t := range raw {
		t = strings.ToLower(cleanLine(t))
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// plainColonValue matches a top-level "key: value" whose unquoted value
// holds ": ", which YAML would read as a nested mapping.
var plainColonValue = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*):[ \t]+([^"'\[{|>&*!#\s].*: .*)$`)

// quoteColonValues single-quotes such values and names the keys it touched.
func quoteColonValues(front string) (string, []string) {
	lines := strings.Split(front, "\n")
	var keys []string
	for i, line := range lines {
		m := plainColonValue.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		val := strings.TrimRight(m[2], " \t")
		lines[i] = m[1] + ": '" + strings.ReplaceAll(val, "'", "''") + "'"
		keys = append(keys, m[1])
	}
	return strings.Join(lines, "\n"), keys
}
