package posts

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("word ", 401) // 401 words: three minutes
	tests := []struct {
		name    string
		src     string
		wantErr string
		check   func(t *testing.T, p Post)
	}{
		{
			name: "good",
			src:  "---\ntitle: Hello\ndate: 2026-11-12\nsummary: A summary.\n---\n# Body\n\nText.\n",
			check: func(t *testing.T, p Post) {
				want := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
				if p.Title != "Hello" || p.Summary != "A summary." || !p.Date.Equal(want) || p.Draft {
					t.Errorf("got %+v", p)
				}
				if p.Body != "# Body\n\nText.\n" {
					t.Errorf("body %q", p.Body)
				}
				if p.Minutes != 1 || len(p.Revision) != 12 {
					t.Errorf("minutes %d revision %q", p.Minutes, p.Revision)
				}
			},
		},
		{
			name: "rfc3339 date and crlf",
			src:  "---\r\ntitle: T\r\ndate: 2026-11-12T10:30:00+02:00\r\n---\r\nbody\r\n",
			check: func(t *testing.T, p Post) {
				if !p.Date.Equal(time.Date(2026, 11, 12, 8, 30, 0, 0, time.UTC)) || p.Body != "body\n" {
					t.Errorf("got date %v body %q", p.Date, p.Body)
				}
			},
		},
		{
			name: "unquoted colon in title",
			src:  "---\ntitle: Go for Backend Services: A Practical Overview\ndate: 2026-11-12\n---\nx",
			check: func(t *testing.T, p Post) {
				if p.Title != "Go for Backend Services: A Practical Overview" {
					t.Errorf("title %q", p.Title)
				}
			},
		},
		{
			name: "draft",
			src:  "---\ntitle: T\ndate: 2026-11-12\ndraft: true\n---\nx",
			check: func(t *testing.T, p Post) {
				if !p.Draft {
					t.Error("not a draft")
				}
			},
		},
		{
			name: "tags list",
			src:  "---\ntitle: T\ndate: 2026-11-12\ntags: [Go, backend, go, \" \"]\n---\nx",
			check: func(t *testing.T, p Post) {
				if !slices.Equal(p.Tags, []string{"go", "backend"}) {
					t.Errorf("tags %q", p.Tags)
				}
			},
		},
		{
			name: "tags string",
			src:  "---\ntitle: T\ndate: 2026-11-12\ntags: go, backend\n---\nx",
			check: func(t *testing.T, p Post) {
				if !slices.Equal(p.Tags, []string{"go", "backend"}) {
					t.Errorf("tags %q", p.Tags)
				}
			},
		},
		{
			name: "reading time counts code",
			src:  "---\ntitle: T\ndate: 2026-11-12\n---\n" + long[:len(long)/2] + "\n```\n" + long[len(long)/2:] + "\n```\n",
			check: func(t *testing.T, p Post) {
				if p.Minutes != 3 {
					t.Errorf("minutes %d, want 3", p.Minutes)
				}
			},
		},
		{
			name: "escape sequences removed",
			src:  "---\ntitle: \"Evil\\e]52;c;AAAA\\a title\"\ndate: 2026-11-12\n---\nbody \x1b[2J here\n",
			check: func(t *testing.T, p Post) {
				if strings.ContainsAny(p.Title+p.Body, "\x1b\a") {
					t.Errorf("control bytes kept: %q %q", p.Title, p.Body)
				}
			},
		},
		{name: "missing title", src: "---\ndate: 2026-11-12\n---\nx", wantErr: "missing title"},
		{name: "empty title", src: "---\ntitle: \"  \"\ndate: 2026-11-12\n---\nx", wantErr: "missing title"},
		{name: "missing date", src: "---\ntitle: T\n---\nx", wantErr: "missing date"},
		{name: "bad date", src: "---\ntitle: T\ndate: 12/11/2026\n---\nx", wantErr: "neither YYYY-MM-DD nor RFC 3339"},
		{name: "zero date", src: "---\ntitle: T\ndate: 0001-01-01\n---\nx", wantErr: "zero time"},
		{name: "no front matter", src: "# Just Markdown\n", wantErr: "no front matter"},
		{name: "unclosed front matter", src: "---\ntitle: T\ndate: 2026-11-12\n", wantErr: "not closed"},
		{name: "not a mapping", src: "---\n- a\n---\nx", wantErr: "not a mapping"},
		{name: "bad yaml", src: "---\ntitle: [unclosed\ndate: 2026-11-12\n---\nx", wantErr: "front matter"},
		{name: "bad draft", src: "---\ntitle: T\ndate: 2026-11-12\ndraft: maybe\n---\nx", wantErr: "draft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("a-post", []byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Slug != "a-post" {
				t.Errorf("slug %q", p.Slug)
			}
			tt.check(t, p)
		})
	}
}

func TestParseWarnsUnknownKeys(t *testing.T) {
	_, warnings, err := parse("x", []byte("---\ntitle: T\ndate: 2026-11-12\nauthor: me\n---\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"author"`) {
		t.Errorf("warnings %q", warnings)
	}
}

func TestValidSlug(t *testing.T) {
	for _, s := range []string{"go", "go-2", "2026-review"} {
		if err := ValidSlug(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "Go", "go_2", "-go", "go.md", "über", "a b", strings.Repeat("a", MaxSlugLen+1)} {
		if err := ValidSlug(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestRevisionChangesWithBytes(t *testing.T) {
	a, _ := Parse("x", []byte("---\ntitle: T\ndate: 2026-11-12\n---\none"))
	b, _ := Parse("x", []byte("---\ntitle: T\ndate: 2026-11-12\n---\ntwo"))
	if a.Revision == "" || a.Revision == b.Revision {
		t.Errorf("revisions %q %q", a.Revision, b.Revision)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("---\ntitle: T\ndate: 2026-11-12\ntags: [a, b]\n---\nbody")
	f.Add("---\ntitle: A: B\ndate: 2026-11-12T10:00:00Z\ndraft: true\n---\n")
	f.Add("---\r\ntitle: x\r\n...\r\n")
	f.Add("no front matter")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse("fuzz", []byte(src))
		if err != nil {
			return
		}
		if p.Title == "" || p.Date.IsZero() || p.Minutes < 1 {
			t.Fatalf("accepted a post with title %q date %v minutes %d", p.Title, p.Date, p.Minutes)
		}
	})
}
