package data

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// KeyTagLen is the length of a key tag: 36 bits of the fingerprint, enough
// to tell apart the commenters of one blog, short enough for 40 columns.
const KeyTagLen = 6

// KeyTag is the short tag shown beside the name of a comment written with
// the key whose SHA256 fingerprint is fp ("SHA256:..."), so that two
// commenters who both call themselves "ada" are told apart. It is the
// first KeyTagLen characters of the fingerprint as `ssh-keygen -l` prints
// it, so a visitor can check their own. Anything else (never a real
// fingerprint) gets a tag hashed from it; no key, no tag.
func KeyTag(fp string) string {
	if fp == "" {
		return ""
	}
	if b64, ok := strings.CutPrefix(fp, "SHA256:"); ok && len(b64) >= KeyTagLen && isBase64(b64[:KeyTagLen]) {
		return b64[:KeyTagLen]
	}
	sum := sha256.Sum256([]byte(fp))
	return base64.RawStdEncoding.EncodeToString(sum[:])[:KeyTagLen]
}

func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
