package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"blog/internal/termclient"

	gossh "golang.org/x/crypto/ssh"
)

func authorizedLine(t *testing.T) (line, blob string) {
	t.Helper()
	k, err := termclient.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.PublicKey())))
	return line, strings.Fields(line)[1]
}

// Moderator key lines are read as sshd reads them: the options honoured
// are kept with the key, any other option or a malformed line is refused
// with a log line naming its number (not the key), and the rest are kept.
func TestAdminKeyLines(t *testing.T) {
	var lines, blobs []string
	add := func(prefix string) {
		l, b := authorizedLine(t)
		lines, blobs = append(lines, prefix+l+" ada@laptop"), append(blobs, b)
	}
	add("")                                                                       // 1: plain
	add(`from="127.0.0.1,10.0.0.0/8,!10.1.*" `)                                   // 2
	add(`expiry-time="20991231",no-port-forwarding `)                             // 3
	add(`command="/bin/true" `)                                                   // 4: refused
	add(`cert-authority `)                                                        // 5: refused
	add(`from="10.0.0.0/33" `)                                                    // 6: refused
	add(`expiry-time="2099" `)                                                    // 7: refused
	lines = append(lines, "", "# a comment", "ssh-ed25519 AAAAnot-base64 broken") // 8, 9, 10: refused
	add(`principals="ada" `)                                                      // 11: refused
	add(`EXPIRY-TIME="202001010000Z" `)                                           // 12: kept, expired
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	keys := parseAdminKeys("--admin-keys", []byte(strings.Join(lines, "\n")), log)
	if len(keys) != 4 {
		t.Fatalf("%d keys kept, want 4 (lines 1, 2, 3, 12)\n%s", len(keys), logs.String())
	}
	if got := strings.Join(keys[1].From, ","); got != "127.0.0.1,10.0.0.0/8,!10.1.*" {
		t.Errorf("from= patterns = %q", got)
	}
	if want := time.Date(2099, 12, 31, 0, 0, 0, 0, time.Local); !keys[2].Expires.Equal(want) {
		t.Errorf("expiry-time = %v, want %v", keys[2].Expires, want)
	}
	if want := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); !keys[3].Expires.Equal(want) {
		t.Errorf("expiry-time with Z = %v, want %v", keys[3].Expires, want)
	}
	out := logs.String()
	for _, n := range []string{"4", "5", "6", "7", "10", "11"} {
		if !strings.Contains(out, "line="+n+" ") {
			t.Errorf("no refusal logged for line %s:\n%s", n, out)
		}
	}
	for _, n := range []string{"1", "2", "3", "8", "9"} {
		if strings.Contains(out, "refused source=--admin-keys line="+n+" ") {
			t.Errorf("line %s refused:\n%s", n, out)
		}
	}
	if !strings.Contains(out, "expired") || !strings.Contains(out, "line=12") {
		t.Errorf("an expired line is not reported:\n%s", out)
	}
	for _, b := range blobs {
		if strings.Contains(out, b) || strings.Contains(out, b[len(b)-20:]) {
			t.Fatalf("a key reached the log:\n%s", out)
		}
	}
}
