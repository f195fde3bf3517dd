package cmd

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// readmeSQL returns the statements of the first sql block after the
// README's line that starts with anchor (a heading), without comments.
func readmeSQL(t *testing.T, anchor string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stmts []string
	var cur strings.Builder
	state := 0 // 0: before the heading, 1: before the block, 2: in it
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case state == 0 && strings.HasPrefix(line, anchor):
			state = 1
		case state == 1 && line == "```sql":
			state = 2
		case state == 2 && line == "```":
			return stmts
		case state == 2 && line != "" && !strings.HasPrefix(line, "--"):
			cur.WriteString(line + " ")
			if strings.HasSuffix(line, ";") {
				stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
				cur.Reset()
			}
		}
	}
	t.Fatalf("README.md has no sql block after %q", anchor)
	return nil
}

// readmeAccount runs the README's statements for an account with the
// test's names: the database, a unique user for any host (tests connect
// over TCP), a random password. It returns the statements it did not run
// (those for later) with the same names, and the account's DSN.
func readmeAccount(t *testing.T, db *sqlx.DB, heading, user, dbName string, now func(stmt string) bool) (later []string, dsn string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name, pass := "trib_rd_"+hex.EncodeToString(b[:3]), "Pw-"+hex.EncodeToString(b[:])
	rename := strings.NewReplacer(
		"'"+user+"'@'localhost'", "'"+name+"'@'%'",
		"civicrm_master.*", database.QuoteIdent(dbName)+".*",
		"civicrm.*", database.QuoteIdent(dbName)+".*",
		"IDENTIFIED BY '...'", "IDENTIFIED BY '"+pass+"'")
	t.Cleanup(func() { db.Exec("DROP USER IF EXISTS '" + name + "'@'%'") })
	for _, stmt := range readmeSQL(t, heading) {
		stmt = rename.Replace(stmt)
		if !now(stmt) {
			later = append(later, stmt)
			continue
		}
		dbtest.Exec(t, db, stmt)
	}
	cfg := dbtest.ServerConfig(t).Clone()
	cfg.User, cfg.Passwd, cfg.DBName = name, pass, dbName
	return later, cfg.FormatDSN()
}

// TestReadmeMasterAccount: the master account exactly as README grants it
// (names aside) can dry-run and apply a prefix's first file, then, after
// the README's optional REVOKE, apply later files and still dry-run a new
// prefix; only a new prefix's real first import needs CREATE back.
func TestReadmeMasterAccount(t *testing.T) {
	_, childDSN := civiDatabase(t, 10)
	master, _ := civiDatabase(t, 0)
	// README: the master keeps every CiviCRM unique key.
	later, masterDSN := readmeAccount(t, master, "### On the master", "tributary_import", masterDatabaseName(t, master),
		func(stmt string) bool { return !strings.HasPrefix(stmt, "REVOKE") })
	if len(later) != 1 {
		t.Fatalf("README's master block: want one REVOKE for later, got %q", later)
	}
	out := t.TempDir()
	first := exportFile(t, childDSN, out)
	before := dbtest.Checksums(t, master)
	if stdout, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", first); code != 0 || !strings.Contains(stdout, "would apply prefix nyc sequence 1") {
		t.Fatalf("dry run of a new prefix with README's grants: exit %d: %s%s", code, stdout, stderr)
	}
	dbtest.AssertIdenticalTables(t, before, dbtest.Checksums(t, master))
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", first); code != 0 {
		t.Fatalf("first import with README's grants: exit %d: %s", code, stderr)
	}

	dbtest.Exec(t, master, later...)
	next := exportFile(t, childDSN, out)
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", next); code != 0 {
		t.Fatalf("later import after README's REVOKE: exit %d: %s", code, stderr)
	}
	sf := filepath.Join(t.TempDir())
	stdout, stderr, code := execute(t, "export", "--dsn", childDSN, "--prefix", "sf", "--map", "civicrm", "--out", sf, "--lag", "0s", "--no-gzip")
	if code != 0 {
		t.Fatalf("export sf: exit %d: %s", code, stderr)
	}
	sfFile := strings.TrimSpace(stdout)
	if stdout, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", sfFile); code != 0 || !strings.Contains(stdout, "would apply prefix sf sequence 1") {
		t.Errorf("dry run of a new prefix after README's REVOKE: exit %d: %s%s", code, stdout, stderr)
	}
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", sfFile); code != exitcode.Failure || !strings.Contains(stderr, "CREATE command denied") {
		t.Errorf("first import of a new prefix without CREATE: exit %d: %s", code, stderr)
	}
}

// TestReadmeChildAccount: the child account exactly as README grants it
// (names aside) exports, and says nothing of open transactions, which
// PROCESS lets it see.
func TestReadmeChildAccount(t *testing.T) {
	child, _ := civiDatabase(t, 5)
	_, childDSN := readmeAccount(t, child, "### On each child", "tributary_export", masterDatabaseName(t, child),
		func(string) bool { return true })
	_, stderr, code := execute(t, "export", "--dsn", childDSN, "--prefix", "nyc", "--map", "civicrm", "--out", t.TempDir(), "--lag", "0s")
	if code != 0 || strings.Contains(stderr, "INNODB_TRX") {
		t.Errorf("export with README's grants: exit %d: %s", code, stderr)
	}
}

// TestDryRunNewPrefixWithoutTemporaryTables: the dry run of a new prefix
// says which privilege it lacks.
func TestDryRunNewPrefixWithoutTemporaryTables(t *testing.T) {
	_, childDSN := civiDatabase(t, 3)
	master, _ := civiDatabase(t, 0)
	masterDSN, _ := account(t, master, "SELECT, INSERT, UPDATE, DELETE, CREATE")
	file := exportFile(t, childDSN, t.TempDir())
	_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", file)
	if code != exitcode.Failure || !strings.Contains(stderr, "GRANT CREATE TEMPORARY TABLES") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
