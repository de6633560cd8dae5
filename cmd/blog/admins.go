package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"blog/server"

	gossh "golang.org/x/crypto/ssh"
)

// adminKeys reads the moderators' keys from --admin-keys and the file. Each
// line is read as sshd reads authorized_keys: from="pattern-list" and
// expiry-time="YYYYMMDD[HHMM[SS]][Z]" are honoured; a line with any other
// option that would restrict the key, or one that does not parse, is
// refused with a logged reason naming the line (never the key) and the
// rest are kept. Only an unreadable file is an error.
func adminKeys(c config, log *slog.Logger) ([]server.AdminKey, error) {
	keys := parseAdminKeys("--admin-keys", []byte(c.adminKeys), log)
	if c.adminKeysFile != "" {
		b, err := os.ReadFile(c.adminKeysFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-keys-file: %w", err)
		}
		keys = append(keys, parseAdminKeys(c.adminKeysFile, b, log)...)
	}
	return keys, nil
}

// harmlessOptions restrict what this server never allows anyway, so a
// line that carries them means what it says.
var harmlessOptions = map[string]bool{
	"no-port-forwarding": true, "no-agent-forwarding": true, "no-x11-forwarding": true,
}

func parseAdminKeys(source string, src []byte, log *slog.Logger) []server.AdminKey {
	var keys []server.AdminKey
	for i, line := range bytes.Split(src, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, err := parseAdminKey(line)
		if err != nil {
			log.Warn("moderator key line refused", "source", source, "line", i+1, "reason", err.Error())
			continue
		}
		if !k.Expires.IsZero() && !time.Now().Before(k.Expires) {
			log.Warn("moderator key line has expired", "source", source, "line", i+1, "expired", k.Expires.UTC().Format(time.RFC3339))
		}
		keys = append(keys, k)
	}
	return keys
}

// parseAdminKey reads one authorized_keys line.
func parseAdminKey(line []byte) (server.AdminKey, error) {
	key, _, options, rest, err := gossh.ParseAuthorizedKey(line)
	if err != nil {
		return server.AdminKey{}, fmt.Errorf("not a public key line: %v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return server.AdminKey{}, fmt.Errorf("more than one key on the line")
	}
	a := server.AdminKey{Key: key}
	seen := map[string]bool{}
	for _, opt := range options {
		name, value, hasValue := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		if seen[name] {
			return server.AdminKey{}, fmt.Errorf("option %s given twice", name)
		}
		seen[name] = true
		switch {
		case name == "from" && hasValue:
			if a.From, err = fromPatterns(value); err != nil {
				return server.AdminKey{}, err
			}
		case name == "expiry-time" && hasValue:
			if a.Expires, err = expiryTime(value); err != nil {
				return server.AdminKey{}, err
			}
		case harmlessOptions[name] && !hasValue:
		default:
			return server.AdminKey{}, fmt.Errorf("option %s is not supported for moderator keys (only from=, expiry-time= and no-*-forwarding)", name)
		}
	}
	return a, nil
}

// unquote takes the double quotes off an option's value.
func unquote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", fmt.Errorf("option value %s is not in double quotes", v)
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), nil
}

func fromPatterns(v string) ([]string, error) {
	v, err := unquote(v)
	if err != nil {
		return nil, fmt.Errorf("from=: %w", err)
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if !server.ValidFromPattern(p) {
			return nil, fmt.Errorf("from=: %q is not an address pattern or CIDR range", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// expiryTime reads YYYYMMDD[HHMM[SS]], in local time as sshd does, or in
// UTC with a trailing Z.
func expiryTime(v string) (time.Time, error) {
	v, err := unquote(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry-time=: %w", err)
	}
	loc := time.Local
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = s, time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(v)]
	if !ok {
		return time.Time{}, fmt.Errorf("expiry-time=: %q is not YYYYMMDD[HHMM[SS]]", v)
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry-time=: %q is not YYYYMMDD[HHMM[SS]]", v)
	}
	return t, nil
}
