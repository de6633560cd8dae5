// Package zone turns the TZ a visitor's SSH client sends into a time zone
// for showing times. TZ is hostile input: only IANA zone names are taken
// (Europe/Berlin, America/Argentina/Buenos_Aires, UTC, and the fixed
// offsets Etc/GMT-2 and the like), never a path, never "Local" (that
// would be the server's zone), and loaded zones are kept in a shared cache
// bounded in bytes, so a client repeating a name costs no file reads.
package zone

import (
	"strings"
	"time"
	_ "time/tzdata" // the zones are there even on a host without zoneinfo files

	"blog/internal/lru"
)

// MaxNameBytes bounds a zone name; the longest IANA name is 32 bytes.
const MaxNameBytes = 64

// cacheBytes bounds the cache. A loaded zone is a few KB (its transitions);
// sizeOf counts every entry as the largest, so the bound holds. Names that
// are refused are cached too (as nil), so a client trying one nonsense
// name after another costs one lookup each and no memory past the bound.
const (
	cacheBytes = 1 << 20
	zoneBytes  = 8 << 10
)

var cache = lru.New[string, *time.Location](cacheBytes, func(name string, loc *time.Location) int64 {
	if loc == nil {
		return int64(len(name))
	}
	return int64(len(name)) + zoneBytes
})

// Load returns the zone TZ names, or UTC and false when tz is empty or
// not a zone name we take. The zone's own abbreviation (CET, CEST) shows
// in times formatted with "MST".
func Load(tz string) (*time.Location, bool) {
	if !plausible(tz) {
		return time.UTC, false
	}
	if tz == "UTC" {
		return time.UTC, true
	}
	if loc, ok := cache.Get(tz); ok {
		if loc == nil {
			return time.UTC, false
		}
		return loc, true
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = nil
	}
	cache.Add(tz, loc)
	if loc == nil {
		return time.UTC, false
	}
	return loc, true
}

// plausible checks a name's shape before any file is looked at: letters,
// digits and "_+-" in parts split by "/", each part starting with a
// letter (so no "..", no leading "/", no empty part), and not "Local".
func plausible(tz string) bool {
	if tz == "" || len(tz) > MaxNameBytes || tz == "Local" {
		return false
	}
	for _, part := range strings.Split(tz, "/") {
		if part == "" || !isLetter(part[0]) {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !isLetter(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '+' {
				return false
			}
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Stamp formats t in loc as the interface and the commands show absolute
// times: "2 Jan 2006 15:04 MST", with the zone's abbreviation (or its
// offset, where the zone has none).
func Stamp(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2 Jan 2006 15:04 MST")
}
