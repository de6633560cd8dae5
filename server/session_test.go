package server

import "testing"

func TestOpensInterface(t *testing.T) {
	for _, tc := range []struct {
		pty  bool
		cmd  []string
		want bool
	}{
		{true, nil, true},
		{true, []string{"read", "welcome"}, true},
		{true, []string{"read"}, false},
		{true, []string{"read", "welcome", "--raw"}, false},
		{true, []string{"ls"}, false},
		{true, []string{"comments", "welcome"}, false},
		{false, nil, false},
		{false, []string{"read", "welcome"}, false},
	} {
		if got := opensInterface(tc.pty, tc.cmd); got != tc.want {
			t.Errorf("opensInterface(pty %v, %q) = %v, want %v", tc.pty, tc.cmd, got, tc.want)
		}
	}
}
