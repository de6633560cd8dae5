package admit

import "blog/data"

// limited is one rate limit that applies to one action.
type limited struct {
	subject string // "key:..." or "ip:..."
	limit   data.RateLimit
}

// limitsFor lists the limits on a's action of kind: per key and per IP,
// each only when a has one.
func limitsFor(l data.Limits, kind string, a data.Author) []limited {
	perKey, perIP := l.CommentPerKey, l.CommentPerIP
	switch kind {
	case Subscribe:
		perKey, perIP = l.SubscribePerKey, l.SubscribePerIP
	case Confirm:
		perKey, perIP = l.ConfirmPerKey, l.ConfirmPerIP
	}
	var out []limited
	if a.KeyFingerprint != "" && perKey.Count > 0 {
		out = append(out, limited{"key:" + a.KeyFingerprint, perKey})
	}
	if a.IP != "" && perIP.Count > 0 {
		out = append(out, limited{"ip:" + a.IP, perIP})
	}
	return out
}

// Subjects lists the subjects whose limits apply to a's action of kind. A
// store that runs checks side by side locks these, so that one subject's
// check and its record cannot interleave with another of its own, while
// other authors' checks go ahead.
func Subjects(l data.Limits, kind string, a data.Author) []string {
	var out []string
	for _, lim := range limitsFor(l, kind, a) {
		out = append(out, lim.subject)
	}
	return out
}
