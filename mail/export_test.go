package mail

import "testing"

// TLSPolicyOf is the TLS policy NewSMTP chooses for url.
func TLSPolicyOf(t *testing.T, url string) string {
	s, err := NewSMTP(url, SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.client.TLSPolicy()
}
