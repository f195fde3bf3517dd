// Package dbtest gives tests their own throwaway databases on the real
// server named by TRIBUTARY_TEST_DSN (scripts/test.sh sets it).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
)

const howToRun = "database tests need a MariaDB/MySQL server: run scripts/test.sh, " +
	"or set TRIBUTARY_TEST_DSN='root@tcp(127.0.0.1:3306)/'"

// ServerConfig returns the test server's configuration, or skips the test
// when none is configured. With TRIBUTARY_TEST_REQUIRE_DB=1 (CI) it fails
// instead, so a suite can never pass by skipping its database tests.
func ServerConfig(tb testing.TB) *mysql.Config {
	tb.Helper()
	dsn := os.Getenv("TRIBUTARY_TEST_DSN")
	if dsn == "" {
		if os.Getenv("TRIBUTARY_TEST_REQUIRE_DB") == "1" {
			tb.Fatal("TRIBUTARY_TEST_REQUIRE_DB=1 but TRIBUTARY_TEST_DSN is empty; " + howToRun)
		}
		tb.Skip(howToRun)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("TRIBUTARY_TEST_DSN: %v", err)
	}
	return cfg
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// NewDatabase creates a uniquely named database for this test, opens it with
// tributary's session settings and drops it when the test ends. The returned
// config points at the new database (use FormatDSN for a command line).
func NewDatabase(tb testing.TB) (*sqlx.DB, *mysql.Config) {
	tb.Helper()
	server := ServerConfig(tb)
	name := uniqueName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin := openServer(ctx, tb, server)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+database.QuoteIdent(name)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		tb.Fatalf("create test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+database.QuoteIdent(name)); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})

	cfg := server.Clone()
	cfg.DBName = name
	src := database.Source{Role: "test", DSN: cfg.FormatDSN()}
	full, err := src.Config()
	if err != nil {
		tb.Fatal(err)
	}
	db, err := database.Open(ctx, full)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, full
}

// DSN is the command-line DSN of a test database.
func DSN(cfg *mysql.Config) string { return cfg.FormatDSN() }

// Exec runs statements and fails the test on the first error.
func Exec(tb testing.TB, db *sqlx.DB, statements ...string) {
	tb.Helper()
	for _, stmt := range statements {
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("%s: %v", firstLine(stmt), err)
		}
	}
}

func openServer(ctx context.Context, tb testing.TB, server *mysql.Config) *sqlx.DB {
	tb.Helper()
	cfg := server.Clone()
	cfg.DBName = ""
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "mysql")
	if err := db.PingContext(ctx); err != nil {
		tb.Fatalf("test server %s: %v; %s", server.Addr, err, howToRun)
	}
	return db
}

// uniqueName makes a database name from the test's name and random bytes,
// so parallel tests and helpers on one server never collide.
func uniqueName(testName string) string {
	base := unsafeName.ReplaceAllString(strings.ToLower(testName), "_")
	base = strings.Trim(base, "_")
	if len(base) > 40 {
		base = base[:40]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "trib_" + base + "_" + hex.EncodeToString(b[:])
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
