// Command blog serves a blog over SSH: posts rendered from Markdown,
// live comments and a newsletter sign-up, in the reader's terminal.
//
// With no subcommand it serves; other subcommands migrate, moderate, export
// subscribers, reset, and check health (run "blog help"). Shared flags have a
// BLOG_* environment variable; a flag on the command line wins over the
// environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "blog:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a wrong command line and 1 for anything else.
func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}
