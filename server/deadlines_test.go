package server

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// countedConn counts the deadlines set on a connection.
type countedConn struct {
	net.Conn
	sets atomic.Int32
}

func (c *countedConn) SetDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetDeadline(t)
}

// tcpPair is both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// readUntilTimeout reads c until a read fails, and says whether it was the
// deadline and when it came. A deadline that never comes fails the test
// after giveUp (the connection is closed) instead of hanging it.
func readUntilTimeout(t *testing.T, c net.Conn, giveUp time.Duration) time.Time {
	t.Helper()
	watchdog := time.AfterFunc(giveUp, func() { c.Close() })
	defer watchdog.Stop()
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read ended with %v, want the deadline", err)
			}
			return time.Now()
		}
	}
}

// A connection with no traffic is cut once idle has passed, not before
// (less the slack), even when the library above clears the deadline.
func TestIdleConnectionIsCut(t *testing.T) {
	const idle = 400 * time.Millisecond
	server, _ := tcpPair(t)
	start := time.Now()
	c := withDeadlines(server, idle, 0)
	_ = c.SetDeadline(time.Time{}) // what the ssh library does before each read
	if at := readUntilTimeout(t, c, 30*time.Second); at.Sub(start) < idle-idle/32 {
		t.Fatalf("cut after %v; idle is %v", at.Sub(start), idle)
	}
}

// Traffic keeps a connection open past idle, and the deadline moves
// rarely: a thousand reads and writes in quick succession set it a few
// times, not two thousand.
func TestTrafficKeepsAConnectionAndMovesItsDeadlineRarely(t *testing.T) {
	const idle = 2 * time.Second
	server, client := tcpPair(t)
	counted := &countedConn{Conn: server}
	c := withDeadlines(counted, idle, 0)
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := client.Read(buf); err != nil {
				return
			}
			if _, err := client.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := []byte{'x'}
	began := time.Now()
	for range 1000 {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	// Once at the start, then at most once a slack (idle/32) of the time
	// the loop took, however slow the machine.
	if n, most := counted.sets.Load(), 2+int32(time.Since(began)/(idle/32)); n > most {
		t.Fatalf("the deadline was set %d times for 2,000 reads and writes; at most %d", n, most)
	}
	// Echo for one and a half idle periods: the connection stays open.
	for end := time.Now().Add(idle * 3 / 2); time.Now().Before(end); {
		if _, err := c.Write(buf); err != nil {
			t.Fatalf("cut while busy: %v", err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("cut while busy: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Then quiet: cut.
	start := time.Now()
	if at := readUntilTimeout(t, c, 30*time.Second); at.Sub(start) < idle-2*idle/32 {
		t.Fatalf("cut %v after the last traffic; idle is %v", at.Sub(start), idle)
	}
}

// The total deadline cuts a connection however busy it is.
func TestMaxSessionCutsABusyConnection(t *testing.T) {
	const most = 500 * time.Millisecond
	server, client := tcpPair(t)
	start := time.Now()
	c := withDeadlines(server, time.Hour, most)
	go func() {
		for {
			if _, err := client.Write([]byte{'x'}); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if at := readUntilTimeout(t, c, 30*time.Second); at.Sub(start) < most {
		t.Fatalf("cut after %v; the most is %v", at.Sub(start), most)
	}
}

// With neither timeout the connection is left as it is.
func TestNoTimeoutsNoWrapper(t *testing.T) {
	server, _ := tcpPair(t)
	if c := withDeadlines(server, 0, 0); c != server {
		t.Fatalf("got %T, want the connection itself", c)
	}
}
