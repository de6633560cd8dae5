package render

import (
	"strings"
	"sync"
	"testing"
	"unsafe"

	"blog/posts"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

var (
	dark  = Style{Profile: termenv.TrueColor, Dark: true}
	light = Style{Profile: termenv.TrueColor}
	plain = Style{Profile: termenv.Ascii}
)

func library(t testing.TB) *posts.Library {
	t.Helper()
	lib, err := posts.Embedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func goPost(t testing.TB) posts.Post {
	t.Helper()
	p, ok := library(t).Get("go-for-backend-services")
	if !ok {
		t.Fatal("go post missing")
	}
	return p
}

// testBudget holds every render a test makes.
const testBudget = 16 << 20

func TestRenderGoPost(t *testing.T) {
	out, err := NewCache(testBudget).Render(goPost(t), 80, dark)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\x1b[") {
		t.Error("true colour output has no colour")
	}
	text := ansi.Strip(out)
	for _, want := range []string{
		"Goroutines and channels", "Compared with", // feature table
		"Error handling is verbose",          // pros and cons table
		`mux.HandleFunc("GET /hello/{name}"`, // code block
		"srv.Shutdown(shutdown)",
		"share memory by communicating", // quote
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered post lacks %q", want)
		}
	}
}

func TestAsciiHasNoEscapes(t *testing.T) {
	c := NewCache(testBudget)
	for _, p := range library(t).Published() {
		out, err := c.Render(p, 80, plain)
		if err != nil {
			t.Fatal(err)
		}
		if i := strings.IndexByte(out, 0x1b); i >= 0 {
			t.Errorf("%s: ESC at %d: %q", p.Slug, i, out[max(0, i-20):min(len(out), i+20)])
		}
	}
}

func TestWarmCallIsAHit(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	first, err := c.Render(p, 80, dark)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := c.Render(p, 80, dark)
	if hits, misses := c.Stats(); hits != 1 || misses != 1 {
		t.Errorf("hits %d misses %d, want 1 1", hits, misses)
	}
	if unsafe.StringData(first) != unsafe.StringData(second) {
		t.Error("warm call returned a copy, not the shared string")
	}
}

func TestConcurrentRendersOnce(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			<-start
			if _, err := c.Render(p, 72, dark); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if hits, misses := c.Stats(); misses != 1 || hits != 49 {
		t.Errorf("hits %d misses %d, want 49 1", hits, misses)
	}
}

// Different keys render in parallel: glamour and chroma must be safe for it.
func TestConcurrentDifferentKeys(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			st := []Style{dark, light, plain, {Profile: termenv.ANSI256}}[i%4]
			if _, err := c.Render(p, 50+i, st); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, misses := c.Stats(); misses != 8 {
		t.Errorf("%d renders, want 8", misses)
	}
}

func TestWidthsWrap(t *testing.T) {
	c := NewCache(testBudget)
	for _, p := range library(t).Published() {
		for _, st := range []Style{dark, light, plain, {Profile: termenv.ANSI}} {
			prev := ""
			for _, width := range []int{MinWidth, 33, 60, 80, 100} {
				out, err := c.Render(p, width, st)
				if err != nil {
					t.Fatal(err)
				}
				for i, line := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(line); w > width {
						t.Errorf("%s at %d (profile %d): line %d is %d wide: %q", p.Slug, width, st.Profile, i, w, ansi.Strip(line))
					}
				}
				if out == prev {
					t.Errorf("%s: width %d wraps like the width before", p.Slug, width)
				}
				prev = out
			}
		}
	}
}

func TestWidthIsClamped(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	c.Render(p, MinWidth, plain)
	c.Render(p, 1, plain)
	c.Render(p, MaxWidth+1000, plain)
	c.Render(p, MaxWidth, plain)
	if hits, misses := c.Stats(); hits != 2 || misses != 2 {
		t.Errorf("hits %d misses %d, want 2 2", hits, misses)
	}
}

func TestAsciiIgnoresBackground(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	c.Render(p, 80, Style{Profile: termenv.Ascii, Dark: true})
	c.Render(p, 80, Style{Profile: termenv.Ascii})
	if _, misses := c.Stats(); misses != 1 {
		t.Errorf("%d renders for one plain text", misses)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	p := goPost(t)
	// A budget that holds any two of the three renders, not all three.
	var all int64
	for _, w := range []int{40, 50, 60} {
		one := NewCache(testBudget)
		one.Render(p, w, plain)
		b, n := one.Size()
		if n != 1 || b < int64(len(p.Body)) {
			t.Fatalf("one render at %d: %d entries, %d bytes", w, n, b)
		}
		all += b
	}
	c := NewCache(all - 1)
	c.Render(p, 40, plain)
	c.Render(p, 50, plain)
	c.Render(p, 40, plain) // 40 is now the most recent
	c.Render(p, 60, plain) // evicts 50
	c.Render(p, 40, plain)
	c.Render(p, 50, plain)
	if hits, misses := c.Stats(); hits != 2 || misses != 4 {
		t.Errorf("hits %d misses %d, want 2 4", hits, misses)
	}
}

func TestNewRevisionRendersAgain(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	before, _ := c.Render(p, 80, plain)
	p.Body = strings.Replace(p.Body, "Go was designed", "Go was built", 1)
	p.Revision = "edited"
	after, _ := c.Render(p, 80, plain)
	if before == after || !strings.Contains(after, "Go was built") {
		t.Error("a new revision was served from the cache")
	}
}

// Glamour registers one chroma theme for whichever style renders code
// first; light readers must still get the light theme's code colours.
func TestCodeColoursFollowBackground(t *testing.T) {
	c := NewCache(testBudget)
	p := goPost(t)
	d, _ := c.Render(p, 80, dark)
	l, _ := c.Render(p, 80, light)
	const darkText, lightText = "38;2;196;196;196", "38;2;42;42;42" // #C4C4C4, #2A2A2A
	if !strings.Contains(d, darkText) || strings.Contains(d, lightText) {
		t.Error("dark render lacks the dark code colours")
	}
	if !strings.Contains(l, lightText) || strings.Contains(l, darkText) {
		t.Error("light render lacks the light code colours")
	}
}

func TestTabsBecomeSpaces(t *testing.T) {
	p := posts.Post{Slug: "tabs", Revision: "1", Body: "```go\nfunc f() {\n\treturn\n}\n```\n"}
	out, err := NewCache(testBudget).Render(p, 40, plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "\t") || !strings.Contains(out, "    return") {
		t.Errorf("tab kept: %q", out)
	}
}
