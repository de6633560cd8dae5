package newsletter

import "time"

// SetRetryAfter shortens the waits between tries of a confirmation mail.
func (s *Signup) SetRetryAfter(waits ...time.Duration) { s.retryAfter = waits }
