package zone

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoadTakesZoneNames(t *testing.T) {
	for _, name := range []string{"Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT-2", "UTC", "Asia/Kolkata"} {
		loc, ok := Load(name)
		if !ok || loc.String() != name {
			t.Errorf("Load(%q) = %v, %v; want that zone", name, loc, ok)
		}
	}
	// Twice: the second answer comes from the cache and is the same.
	a, _ := Load("Europe/Berlin")
	b, _ := Load("Europe/Berlin")
	if a != b {
		t.Error("a second Load of one name gave another *Location; the cache is not used")
	}
}

func TestLoadRefusesHostileNames(t *testing.T) {
	for _, name := range []string{
		"", "Local", "../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd",
		"Europe//Berlin", "Europe/Berlin/", ".hidden", "Europe/Berlin\x00", "Europe/Berlin\x1b[31m",
		"CET-1CEST,M3.5.0,M10.5.0/3", "Nowhere/Land", strings.Repeat("A", MaxNameBytes+1),
		"Europe/Ber lin", "Europe/Berlín",
	} {
		if loc, ok := Load(name); ok || loc != time.UTC {
			t.Errorf("Load(%q) = %v, %v; want UTC and false", name, loc, ok)
		}
	}
}

func TestCacheStaysBounded(t *testing.T) {
	// Many refused names: the cache keeps its byte bound.
	for i := range 8000 {
		Load("Nowhere/Z" + strings.Repeat("x", i%40) + string(rune('a'+i%26)) + strconv.Itoa(i))
	}
	if cache.Len() < 5000 {
		t.Fatalf("only %d names cached; the flood did not reach the bound", cache.Len())
	}
	if n := cache.Bytes(); n > cacheBytes {
		t.Fatalf("cache holds %d bytes, bound %d", n, cacheBytes)
	}
	if _, ok := Load("Europe/Berlin"); !ok {
		t.Fatal("a real zone no longer loads after the flood")
	}
}

func TestStamp(t *testing.T) {
	at := time.Date(2026, 1, 15, 12, 30, 0, 0, time.UTC)
	berlin, _ := Load("Europe/Berlin")
	if got := Stamp(at, berlin); got != "15 Jan 2026 13:30 CET" {
		t.Errorf("Stamp in Berlin = %q", got)
	}
	if got := Stamp(at, nil); got != "15 Jan 2026 12:30 UTC" {
		t.Errorf("Stamp without a zone = %q", got)
	}
}
