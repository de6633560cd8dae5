package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

const healthcheckHelp = `blog healthcheck [--url URL]: exit 0 if a running server's /healthz answers
200, else 1. It is the container's HEALTHCHECK (the image has no curl). By
default it asks /healthz on --http-addr, at 127.0.0.1 when that names no host.`

func (c *cli) healthcheckCmd() *cobra.Command {
	var cfg config
	var url string
	var timeout time.Duration
	cmd := c.command("healthcheck", healthcheckHelp, &cfg, httpAddrFlag)
	cmd.Flags().StringVar(&url, "url", "", "the URL to GET instead, e.g. http://127.0.0.1:23235/healthz")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if err := c.noArgs(cmd, pos); err != nil {
			return err
		}
		if url == "" {
			var err error
			if url, err = healthURL(cfg.httpAddr); err != nil {
				return err
			}
		}
		return c.healthcheck(cmd, url, timeout)
	}
	return cmd
}

// healthcheck GETs url and succeeds on a 200.
func (c *cli) healthcheck(cmd *cobra.Command, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c.usageError(cmd, "--url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	fmt.Fprintf(c.out, "%s: %s\n", url, resp.Status)
	return nil
}

// healthURL is /healthz on the HTTP listen address, reached over loopback
// when the address names no host (":23235", "0.0.0.0:23235").
func healthURL(httpAddr string) (string, error) {
	if httpAddr == "" {
		return "", errors.New("the HTTP endpoint is off (--http-addr is empty); give --url")
	}
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", fmt.Errorf("--http-addr %q: %v", httpAddr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
