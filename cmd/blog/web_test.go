package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"blog/internal/syncbuf"
	"blog/internal/termclient"
)

// serve wires the web edition: the posts on --web-addr, and a comment
// posted over SSH reaching an open page's live stream through the hub.
func TestServeWebEdition(t *testing.T) {
	dataDir := t.TempDir()
	sshAddr, webAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--data-dir", dataDir, "--ssh-addr", sshAddr, "--http-addr", "",
			"--web-addr", webAddr, "--public-url", "https://blog.example", "--notice", "Hello, web",
			"--shutdown-grace", "1s"}, io.Discard, logs)
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + webAddr
	var page string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/posts/welcome")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				page = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the web edition never answered: %v\n%s", err, logs.String())
		}
	}
	for _, want := range []string{"Welcome to the blog", "Hello, web", `href="https://blog.example/posts/welcome"`, "ssh -t -p " + sshAddr[strings.LastIndexByte(sshAddr, ':')+1:] + " localhost read welcome", `action="/subscribe"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/posts/welcome/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	key, err := termclient.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	// The stream is open once its first line ("retry: ...") came.
	select {
	case <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream sent nothing")
	}
	if out, errOut, code, err := termclient.Exec(sshAddr, key, "comment welcome --name ada", strings.NewReader("Live from SSH")); err != nil || code != 0 {
		t.Fatalf("comment: %d %v %s %s", code, err, out, errOut)
	}
	for timeout := time.After(20 * time.Second); ; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, "Live from SSH") {
				return
			}
		case <-timeout:
			t.Fatal("the comment never reached the open page")
		}
	}
}
