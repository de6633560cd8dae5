package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender delivers messages. Send's errors are *Error, saying whether the
// server refused for good.
type Sender interface {
	Send(ctx context.Context, m *gomail.Msg) error
	// Close ends an open connection; the next Send opens a new one.
	Close() error
}

// Error is a failed send, described without addresses so it can be logged
// and stored.
type Error struct {
	// Permanent: the server answered 5xx; trying again will not help.
	Permanent bool
	// Reason is "550 5.1.1" or a short kind of failure ("connection").
	Reason string
}

func (e *Error) Error() string {
	if e.Permanent {
		return "refused: " + e.Reason
	}
	return "temporary failure: " + e.Reason
}

// sendTimeout bounds one dial or one message, so a server that stops
// answering cannot hold a worker.
const sendTimeout = 30 * time.Second

// SMTPOptions are the optional parts of an SMTP transport.
type SMTPOptions struct {
	// HELO is the name we greet with; empty lets go-mail choose.
	HELO string
	// DKIM signs every message when set.
	DKIM *gomail.DKIMSigner
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// SMTP sends through one mail server, reusing its connection between
// messages. It is safe for concurrent use; sends take turns.
type SMTP struct {
	mu     sync.Mutex
	client *gomail.Client
	open   bool
}

// ParseSMTPURL checks an SMTP URL: smtp://[user[:pass]@]host[:port] (port
// 587 by default; STARTTLS is required unless the host is loopback) or
// smtps://... (implicit TLS, port 465 by default).
func ParseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the whole URL, password included.
		return nil, errors.New("the SMTP URL cannot be parsed")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("SMTP URL %s: the scheme must be smtp or smtps", Redact(raw))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL %s: no host", Redact(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP URL %s: bad port", Redact(raw))
		}
	}
	return u, nil
}

// Redact hides the password of an SMTP URL, for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewSMTP makes a transport for the server at rawURL (see ParseSMTPURL).
func NewSMTP(rawURL string, opt SMTPOptions) (*SMTP, error) {
	u, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	opts := []gomail.Option{gomail.WithTimeout(sendTimeout), gomail.WithoutNoop()}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else if IsLoopback(host) {
		// A local relay: encrypt if it offers STARTTLS, else go plain.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithUsername(user), gomail.WithPassword(pass),
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
	}
	if opt.HELO != "" {
		opts = append(opts, gomail.WithHELO(opt.HELO))
	}
	if opt.DKIM != nil {
		opts = append(opts, gomail.WithAlwaysDKIMSign(opt.DKIM))
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if opt.TLSConfig != nil {
		tlsConfig = opt.TLSConfig
	}
	opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP %s: %w", Redact(rawURL), err)
	}
	return &SMTP{client: c}, nil
}

// Send delivers m, dialling first if no connection is open. Any failure
// that is not the server's answer closes the connection, so the next Send
// starts afresh.
func (s *SMTP) Send(ctx context.Context, m *gomail.Msg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if !s.open {
		if err := s.client.DialWithContext(ctx); err != nil {
			return classify(err, true)
		}
		s.open = true
	}
	err := s.client.Send(m)
	if m.IsDelivered() {
		// The server said 250; a failure after that (the RSET) does not
		// undo the delivery, but the connection is suspect.
		if err != nil {
			s.closeLocked()
		}
		return nil
	}
	if err == nil {
		return nil
	}
	e := classify(err, false)
	if e.Reason == "connection" {
		s.closeLocked()
	}
	return e
}

// Close ends the connection, if any.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *SMTP) closeLocked() error {
	if !s.open {
		return nil
	}
	s.open = false
	return s.client.Close()
}

// classify turns go-mail's errors (which name recipients) into an *Error.
// Only a 5xx answer is permanent; everything else, a dropped connection
// included, is worth another try.
func classify(err error, dialing bool) *Error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code >= 400 && code < 600 {
			reason := strconv.Itoa(code)
			if esc := se.EnhancedStatusCode(); esc != "" {
				reason += " " + esc
			}
			return &Error{Permanent: code >= 500, Reason: reason}
		}
		return &Error{Reason: "connection"}
	}
	if code := leadingCode(err.Error()); code != 0 {
		// Dial errors (greeting, STARTTLS, AUTH) carry the answer's code.
		return &Error{Permanent: code >= 500 && !dialing, Reason: strconv.Itoa(code)}
	}
	return &Error{Reason: "connection"}
}

// leadingCode finds a 4xx or 5xx SMTP code at the start of msg or after
// a ": ".
func leadingCode(msg string) int {
	for _, part := range append([]string{msg}, strings.Split(msg, ": ")...) {
		if len(part) >= 3 && (part[0] == '4' || part[0] == '5') {
			if n, err := strconv.Atoi(part[:3]); err == nil && (len(part) == 3 || part[3] == ' ' || part[3] == '-') {
				return n
			}
		}
	}
	return 0
}

// Files writes each message as an .eml file in a directory instead of
// sending it: what a one-box install or a developer would have sent.
type Files struct {
	dir    string
	log    *slog.Logger
	logged atomic.Bool
	seq    atomic.Uint64
}

// NewFiles writes into dir, creating it (0700: the files hold addresses).
func NewFiles(dir string, log *slog.Logger) (*Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail directory: %w", err)
	}
	return &Files{dir: dir, log: log}, nil
}

// Dir is where the files go.
func (f *Files) Dir() string { return f.dir }

// Send writes m to a new file, named by time so a listing reads in order.
func (f *Files) Send(_ context.Context, m *gomail.Msg) error {
	if f.logged.CompareAndSwap(false, true) && f.log != nil {
		f.log.Warn("no --smtp-url: mail is written as .eml files instead of sent", "dir", f.dir)
	}
	name := fmt.Sprintf("%s-%06d.eml", now().UTC().Format("20060102T150405.000000000Z"), f.seq.Add(1))
	path := filepath.Join(f.dir, name)
	tmp := path + ".tmp"
	if err := m.WriteToFile(tmp); err != nil {
		return &Error{Reason: "file"}
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return &Error{Reason: "file"}
	}
	// Rename, so a reader of the directory never sees half a message.
	if err := os.Rename(tmp, path); err != nil {
		return &Error{Reason: "file"}
	}
	return nil
}

// Close does nothing.
func (f *Files) Close() error { return nil }
