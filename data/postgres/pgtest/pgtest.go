// Package pgtest gives tests a fresh, empty Postgres database each.
//
// Tests name the server with BLOG_TEST_DATABASE_URL, a URL of a role that
// may create databases (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// Without it the tests are skipped, except in CI where that is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable holding the admin URL.
const EnvURL = "BLOG_TEST_DATABASE_URL"

// AdminURL returns the admin URL, skipping the test (failing it in CI)
// when none is set.
func AdminURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(EnvURL + " must be set in CI")
		}
		t.Skip("postgres tests skipped: set " + EnvURL + "=postgres://... to run them")
	}
	return admin
}

// NewDatabase creates an empty database, drops it when the test ends, and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	var b [8]byte
	rand.Read(b[:])
	name := "blog_test_" + hex.EncodeToString(b[:])
	exec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// exec runs one statement on a short-lived admin connection: CREATE and
// DROP DATABASE cannot run inside the pooled, transactional paths.
func exec(t testing.TB, admin, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// Outage makes the database at dbURL refuse connections and drops the
// open ones, as a restart does, until the returned function is called
// (also called at cleanup).
func Outage(t testing.TB, dbURL string) (restore func()) {
	t.Helper()
	admin := AdminURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := u.Path[1:]
	exec(t, admin, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	exec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+name+"'")
	done := false
	restore = func() {
		if !done {
			done = true
			exec(t, admin, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
		}
	}
	t.Cleanup(restore)
	return restore
}
