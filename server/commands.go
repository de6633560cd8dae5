package server

import (
	"blog/commands"

	"github.com/charmbracelet/ssh"
)

// newCommands gives the visitor commands (package commands) what they use
// of the server: the same store, posts, render cache, sign-up and counts
// as the interface, and the signal that shutdown has begun.
func (s *Server) newCommands() *commands.Env {
	return &commands.Env{
		Title:     s.cfg.Title,
		Host:      s.cfg.Host,
		Posts:     s.posts,
		Render:    s.render,
		Store:     s.store,
		Signup:    s.uiCfg.Newsletter,
		Counts:    s.hub.Counts,
		Moderator: s.uiCfg.Moderator,
		Stopping:  s.stopping,
		Log:       s.log,
	}
}

// runCommand runs an exec request (or a bare session without a terminal)
// and returns its exit status.
func (s *Server) runCommand(sess ssh.Session) int {
	width := 0
	if pty, _, isPty := sess.Pty(); isPty {
		width = pty.Window.Width
	}
	args := commandOf(sess)
	if len(args) == 0 {
		// ssh -T SLUG@host: the post as plain text, as read SLUG gives it.
		if slug := permalinkSlug(sess.User(), s.posts); slug != "" {
			if _, ok := s.posts.Get(slug); ok {
				args = []string{"read", slug}
			}
		}
	}
	return s.exec.Run(sess.Context(), commands.Request{
		Args:     args,
		Author:   author(sess),
		Location: visitorZone(sess),
		Width:    width,
		Stdin:    sess,
		Stdout:   sess,
		Stderr:   sess.Stderr(),
	})
}
