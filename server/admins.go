package server

import (
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// AdminKey is one moderator's key with the restrictions of its
// authorized_keys line: From (the from="..." patterns; none means from
// anywhere) and Expires (expiry-time="..."; zero means never).
type AdminKey struct {
	Key     gossh.PublicKey
	From    []string
	Expires time.Time
}

// allows reports whether a client that authenticated with key from ip at
// now is this moderator.
func (a AdminKey) allows(key ssh.PublicKey, ip string, now time.Time) bool {
	if !ssh.KeysEqual(key, a.Key) {
		return false
	}
	if !a.Expires.IsZero() && !now.Before(a.Expires) {
		return false
	}
	return len(a.From) == 0 || MatchFrom(a.From, ip)
}

// MatchFrom reports whether ip matches an OpenSSH from= pattern list, as
// sshd matches it against the client's address: entries are addresses with
// the wildcards * and ?, or CIDR ranges (192.0.2.0/24); an entry starting
// with ! excludes. Any matching exclusion refuses, else any matching entry
// allows, else the client is refused. Host names never match: like sshd
// with UseDNS off (its default), the server does not resolve clients.
func MatchFrom(patterns []string, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	text := addr.String()
	allowed := false
	for _, p := range patterns {
		negate := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var match bool
		if prefix, err := netip.ParsePrefix(p); err == nil {
			match = prefix.Contains(addr)
		} else {
			// path.Match knows * and ? (and [..], which no address holds);
			// '/' never occurs in an address, so * spans all of it.
			match, _ = path.Match(strings.ToLower(p), text)
		}
		if match && negate {
			return false
		}
		allowed = allowed || match
	}
	return allowed
}

// ValidFromPattern reports whether p is a usable from= entry: a CIDR range
// that parses, or an address pattern.
func ValidFromPattern(p string) bool {
	p = strings.TrimPrefix(p, "!")
	if p == "" {
		return false
	}
	if strings.Contains(p, "/") {
		prefix, err := netip.ParsePrefix(p)
		return err == nil && prefix == prefix.Masked()
	}
	_, err := path.Match(p, "")
	return err == nil
}
