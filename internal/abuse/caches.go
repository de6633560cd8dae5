package abuse

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"sync"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// CJKComment is comment i of the cache fill: runes ideographs, different
// for every i, in one paragraph (ideographs wrap anywhere).
func CJKComment(i, runes int) string {
	var b strings.Builder
	for j := range runes {
		b.WriteRune(rune(0x4e00 + (i*7919+j*31)%20000))
	}
	return b.String()
}

// PostComments is the first half of finding 4: n comments of runes CJK
// characters on t.Slug with the exec command, a fresh key every ten.
func PostComments(ctx context.Context, t Target, n, runes int) error {
	var key ssh.Signer
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if i%10 == 0 {
			var err error
			if key, err = termclient.NewSigner(); err != nil {
				return err
			}
		}
		code, stderr, err := Comment(t, key, fmt.Sprintf("Filler %d", i%10), CJKComment(i, runes))
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("comment %d refused: %s", i, strings.TrimSpace(stderr))
		}
	}
	return nil
}

// Look is one terminal a reader of the cache fill uses.
type Look struct {
	Term, ColorTerm, NoColor string
	Light                    bool
}

// looks are the four colour profiles (true colour, 256 colours, 16 colours,
// none), each on a dark and a light background: every one is drawn with
// its own styles.
var looks = func() []Look {
	var out []Look
	for _, light := range []bool{false, true} {
		out = append(out,
			Look{Term: "xterm-256color", ColorTerm: "truecolor", Light: light},
			Look{Term: "xterm-256color", Light: light},
			Look{Term: "xterm", Light: light},
			Look{Term: "xterm-256color", NoColor: "1", Light: light})
	}
	return out
}()

// Readers' widths run from 42 to 102 columns: the blog reads at most 100
// columns wide (plus its margins), so wider windows draw alike.
const minReadWidth, readWidths = 42, 61

// ReadAtSizes is the second half of finding 4: sessions short keyless
// sessions, concurrency at a time, each at its own width and terminal look
// (488 different ones, then they repeat), reading t.Slug to the end of its
// comments and leaving. It returns how many read to the end.
func ReadAtSizes(ctx context.Context, t Target, sessions, concurrency int) (int, error) {
	var (
		mu      sync.Mutex
		done    int
		lastErr error
		wg      sync.WaitGroup
		slots   = make(chan struct{}, max(concurrency, 1))
	)
	for i := range sessions {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := readToEnd(ctx, t, minReadWidth+i%readWidths, looks[i/readWidths%len(looks)])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				lastErr = err
				return
			}
			done++
		}()
	}
	wg.Wait()
	if done == 0 && lastErr != nil {
		return 0, lastErr
	}
	return done, ctx.Err()
}

func readToEnd(ctx context.Context, t Target, width int, look Look) error {
	o := termclient.Options{Addr: t.Addr, Width: width, Height: 40, Term: look.Term, Command: "read " + t.Slug, DropRaw: true, Timeout: t.wait()}
	for _, kv := range []string{"COLORTERM=" + look.ColorTerm, "NO_COLOR=" + look.NoColor} {
		if !strings.HasSuffix(kv, "=") {
			o.Env = append(o.Env, kv)
		}
	}
	if look.Light {
		o.Background = color.White
	}
	s, err := termclient.Open(o)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.WaitFor("min read", t.wait()); err != nil {
		return err
	}
	// Each G goes to the end, which loads the next page of comments;
	// repeat until the thread says there are no more.
	for range 100 {
		if err := s.Type("G"); err != nil {
			return err
		}
		if s.WaitFor("No more comments", t.wait()/20) == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("width %d: the comments never ended", width)
}
