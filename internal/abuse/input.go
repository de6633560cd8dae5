package abuse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"blog/internal/termclient"

	"golang.org/x/crypto/ssh"
)

// openComposer opens t.Slug with a fresh key and the composer on it.
func openComposer(ctx context.Context, t Target) (*termclient.Session, error) {
	if err := CheckLoopback(t.Addr); err != nil {
		return nil, err
	}
	key, err := termclient.NewSigner()
	if err != nil {
		return nil, err
	}
	// The composer repaints on every keystroke; keeping the raw stream
	// would cost the attacker more memory than the server.
	s, err := termclient.Open(termclient.Options{Addr: t.Addr, Signer: key, Width: 100, Height: 40, Command: "read " + t.Slug, DropRaw: true, Timeout: t.wait()})
	if err != nil {
		return nil, err
	}
	if err := s.WaitFor("min read", t.wait()); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Type("c"); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.WaitFor("Leave a comment", t.wait()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

var draftCount = regexp.MustCompile(`(\d+) / \d+`)

// TypingFlood is finding 3: with a key, it opens the composer on t.Slug
// and types size bytes of words in writes of chunk bytes (8 is a fast
// typist's script), as keystrokes (not a bracketed paste). It then closes the composer, which keeps the draft,
// and opens it again to read the draft's length from the counter under
// the text. It waits for the server as long as ctx allows.
func TypingFlood(ctx context.Context, t Target, size, chunk int) (draft int, err error) {
	s, err := openComposer(ctx, t)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	const words = "lorem ipsum dolor sit amet consectetur adipiscing elit "
	for sent := 0; sent < size; {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("typed %d of %d bytes: %w", sent, size, ctx.Err())
		}
		keys := words[sent%len(words):]
		keys = keys[:min(chunk, len(keys), size-sent)]
		if err := s.Type(keys); err != nil {
			return 0, err
		}
		sent += len(keys)
	}
	// Everything typed is handled in order, so once esc's message shows,
	// every keystroke before it has been too.
	if err := s.Type("\x1b"); err != nil {
		return 0, err
	}
	if err := waitCtx(ctx, s, "Draft kept"); err != nil {
		return 0, err
	}
	if err := s.Type("c"); err != nil {
		return 0, err
	}
	var n int
	err = s.Wait(t.wait(), func(scr string) bool {
		m := draftCount.FindStringSubmatch(scr)
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	return n, err
}

// waitCtx waits for text on s until ctx ends.
func waitCtx(ctx context.Context, s *termclient.Session, text string) error {
	for {
		err := s.WaitFor(text, 200*time.Millisecond)
		if err == nil || strings.HasPrefix(err.Error(), "session ended") {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%q not shown: %w", text, ctx.Err())
		}
	}
}

// PasteFlood is finding 8: with a key, in the composer on t.Slug, it
// starts a bracketed paste and sends size bytes of one long run without
// spaces, never ending the paste. A server that bounds its pending input
// ends the paste and says so: PasteFlood returns the screen's line that
// mentions the paste, once everything is sent. It waits as long as ctx
// allows.
func PasteFlood(ctx context.Context, t Target, size int) (note string, err error) {
	s, err := openComposer(ctx, t)
	if err != nil {
		return "", err
	}
	defer s.Close()
	sent := make(chan error, 1)
	var written int
	go func() {
		if err := s.Type("\x1b[200~"); err != nil {
			sent <- err
			return
		}
		chunk := strings.Repeat("x", 32<<10)
		for written < size && ctx.Err() == nil {
			n := min(len(chunk), size-written)
			if err := s.Type(chunk[:n]); err != nil {
				sent <- err
				return
			}
			written += n
		}
		sent <- ctx.Err()
	}()
	select {
	case err := <-sent:
		if err != nil {
			return "", err
		}
	case <-ctx.Done():
		s.Drop() // unblocks the writer
		<-sent
		return "", fmt.Errorf("the server took %d of %d bytes before the deadline: %w", written, size, ctx.Err())
	}
	err = s.Wait(t.wait(), func(scr string) bool {
		for _, line := range strings.Split(scr, "\n") {
			if strings.Contains(strings.ToLower(line), "paste") {
				note = strings.TrimSpace(line)
				return true
			}
		}
		return false
	})
	if err != nil {
		return "", errors.New("no note about the paste; " + err.Error())
	}
	return note, nil
}

// Comment posts body on t.Slug as name with the exec command, keyed by
// signer. It returns the exit status and what the server wrote to stderr.
func Comment(t Target, signer ssh.Signer, name, body string) (code int, stderr string, err error) {
	if err := CheckLoopback(t.Addr); err != nil {
		return -1, "", err
	}
	cmd := "comment " + t.Slug
	if name != "" {
		cmd += ` --name "` + name + `"` // the names tried hold no quotes
	}
	_, stderr, code, err = termclient.Exec(t.Addr, signer, cmd, strings.NewReader(body))
	return code, stderr, err
}
