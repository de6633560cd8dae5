package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"blog/data"

	"github.com/spf13/cobra"
)

const subscribersHelp = `blog subscribers: the newsletter's subscribers.

Usage:
  blog subscribers export         print every address and its status as CSV
  blog subscribers import FILE    add addresses you vouch for, confirmed

Run "blog subscribers export --help" for its flags.`

func (c *cli) subscribersCmd() *cobra.Command {
	return c.group("subscribers", subscribersHelp, c.exportCmd(), c.importCmd())
}

const exportHelp = `blog subscribers export: print the subscribers, oldest first, as CSV with a
header row: email,status,subscribed_at,confirmed_at (RFC 3339, UTC; confirmed_at
is empty if never confirmed). status is pending (not confirmed yet: gets no
mail), confirmed, unsubscribed or bouncing (refused by its mail server ` + "3" + `
times in a row: gets no mail). This is the only command that shows addresses;
redirect it to a file and keep that file private.`

func (c *cli) exportCmd() *cobra.Command {
	return c.storeCommand("export", exportHelp, c.subscribersExport)
}

func (c *cli) subscribersExport(cmd *cobra.Command, store data.Store) error {
	subs, err := store.Subscribers(cmd.Context())
	if err != nil {
		return err
	}
	w := csv.NewWriter(c.out)
	w.Write([]string{"email", "status", "subscribed_at", "confirmed_at"})
	for _, s := range subs {
		confirmed := ""
		if !s.ConfirmedAt.IsZero() {
			confirmed = s.ConfirmedAt.UTC().Format(time.RFC3339)
		}
		w.Write([]string{s.Email, s.Status, s.CreatedAt.UTC().Format(time.RFC3339), confirmed})
	}
	w.Flush()
	return w.Error()
}

const importHelp = `blog subscribers import FILE.csv: add the addresses in FILE (or - for stdin)
as confirmed subscribers, without a confirmation mail: only for addresses
you vouch for, e.g. a list moved from another tool. The file is CSV; the
address is the first column, or the column named "email" when the first row
is a header. Addresses that unsubscribed or bounce are left as they are.
Nothing is imported if any line is not an address.`

// maxImport bounds an import file: a million addresses is a big list.
const maxImport = 1_000_000

func (c *cli) importCmd() *cobra.Command {
	var cfg config
	cmd := c.command("import", importHelp, &cfg, quietFlags)
	cmd.RunE = func(cmd *cobra.Command, pos []string) error {
		if len(pos) != 1 {
			return c.usageError(cmd, "give one CSV file (or - for stdin)")
		}
		return c.subscribersImport(cmd.Context(), cfg, pos[0])
	}
	return cmd
}

// subscribersImport imports the addresses in the file named (- for stdin).
func (c *cli) subscribersImport(ctx context.Context, cfg config, file string) error {
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	emails, err := readAddresses(in)
	if err != nil {
		return err
	}
	store, err := c.open(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.ImportSubscribers(ctx, emails)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Read %d addresses; %d are now confirmed subscribers (the rest were already, or had left).\n", len(emails), n)
	return nil
}

// readAddresses reads the import CSV, refusing it whole if a line is bad.
func readAddresses(in io.Reader) ([]string, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	col := 0
	var out []string
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if line == 1 {
			header := false
			for i, f := range rec {
				if strings.EqualFold(strings.TrimSpace(f), "email") {
					col, header = i, true
				}
			}
			if header {
				continue
			}
		}
		if col >= len(rec) || strings.TrimSpace(rec[col]) == "" {
			continue // a blank line
		}
		e, err := data.NormalizeEmail(rec[col])
		if err != nil {
			// The message says why without repeating the line.
			return nil, fmt.Errorf("line %d: %v; nothing was imported", line, err)
		}
		if len(out) == maxImport {
			return nil, fmt.Errorf("more than %d addresses; split the file", maxImport)
		}
		out = append(out, e)
	}
	return out, nil
}
