package data

import "testing"

func TestKeyTag(t *testing.T) {
	const fp = "SHA256:3fa9k2Lw0b1+Zx/Qe8YtR4mNpS6uVaB7cD9eFgHiJkM"
	if got := KeyTag(fp); got != "3fa9k2" {
		t.Errorf("KeyTag(%q) = %q, want the fingerprint's first six characters", fp, got)
	}
	if got := KeyTag(""); got != "" {
		t.Errorf("no key got tag %q", got)
	}
	// Not a SHA256 fingerprint (or one holding escapes): a hashed tag of
	// plain base64 characters, different for different keys.
	a, b := KeyTag("SHA256:\x1b[2J"), KeyTag("SHA256:bench3")
	if len(a) != KeyTagLen || !isBase64(a) || len(b) != KeyTagLen || !isBase64(b) || a == b {
		t.Errorf("hashed tags %q %q", a, b)
	}
	if KeyTag("SHA256:ab") == KeyTag("SHA256:ac") {
		t.Error("short fingerprints share a tag")
	}
}
