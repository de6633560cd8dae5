package server

import (
	"strings"
	"time"

	"blog/internal/zone"
	"blog/posts"

	"github.com/charmbracelet/ssh"
)

// permalinkSlug reads the SSH user name as a permalink: ssh SLUG@host
// opens that post. The name is the client's to choose, so it is hostile:
// only a name shaped like a slug (posts.ValidSlug, so at most
// posts.MaxSlugLen bytes of lowercase letters, digits and '-') is looked
// at. It returns the slug to open, or "" to open the list.
//
// A name that is a post's slug opens it. A slug-shaped name with a '-' in
// it that names no post ("hello-wrld") was most likely meant as a
// permalink, so it is returned too and the interface opens the list with
// a note. Any other name (root, alice, Alice.Smith, anything longer or
// odder) is an ordinary login name: the list opens without a note, since
// most clients send the local user's name when none is given.
func permalinkSlug(user string, lib *posts.Library) string {
	if len(user) > posts.MaxSlugLen || posts.ValidSlug(user) != nil {
		return ""
	}
	if _, ok := lib.Get(user); ok || strings.Contains(user, "-") {
		return user
	}
	return ""
}

// visitorZone is the time zone the client sent in TZ (ssh -o
// SetEnv=TZ=Europe/Berlin), or UTC. The env request was bounded when it
// arrived (keepEnv); zone.Load takes only IANA zone names.
func visitorZone(sess ssh.Session) *time.Location {
	for _, kv := range sess.Environ() {
		if v, ok := strings.CutPrefix(kv, "TZ="); ok {
			loc, _ := zone.Load(v)
			return loc
		}
	}
	return time.UTC
}
