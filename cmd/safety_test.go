package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/syncfile"
	"tributary/syncfile/syncfiletest"
)

const memberMap = `
tables:
  member: { track: updated_at }
`

// memberDatabase is a one-table child or master with n members.
func memberDatabase(t *testing.T, n int) (*sqlx.DB, string) {
	t.Helper()
	db, cfg := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, `CREATE TABLE member (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL,
		updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))`)
	if n > 0 {
		dbtest.Exec(t, db, `INSERT INTO member (id, name) SELECT seq, CONCAT('member ', seq) FROM seq_1_to_`+itoa(int64(n)))
	}
	return db, dbtest.DSN(cfg)
}

// The README's cron lines with one mistyped database: the export under the
// existing state file refuses (exit 2); a fresh state (another --out) makes
// a full file of the wrong database, which the master refuses as a mass
// deletion (exit 3, byte-identical); the command the refusal gives applies
// it when that is what the admin wants.
func TestMistypedDatabaseNeverDeletesABranch(t *testing.T) {
	_, realDSN := memberDatabase(t, 300)
	_, wrongDSN := memberDatabase(t, 0)
	master, masterDSN := memberDatabase(t, 0)
	mapFile := writeMap(t, t.TempDir(), "map.yaml", memberMap)
	out := t.TempDir()
	export := func(dsn, out string) (string, string, int) {
		stdout, stderr, code := execute(t, "export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s")
		return strings.TrimSpace(stdout), stderr, code
	}
	file, stderr, code := export(realDSN, out)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", mapFile, file); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	before := dbtest.Checksums(t, master)

	_, stderr, code = export(wrongDSN, out)
	if code != exitcode.Usage || !strings.Contains(stderr, "--new-stream") || len(syncfiletest.Visible(t, out)) != 1 {
		t.Fatalf("export of the wrong database: exit %d, %d files: %s", code, len(syncfiletest.Visible(t, out)), stderr)
	}

	// A new stream's full file must end after what the master holds to be
	// applied at all: export again until it does.
	var wrongFile string
	for wrongFile == "" || !(untilOf(t, wrongFile) > untilOf(t, file)) {
		if wrongFile != "" {
			time.Sleep(200 * time.Millisecond)
		}
		wrongFile, stderr, code = export(wrongDSN, t.TempDir())
		if code != 0 {
			t.Fatalf("export with a fresh state: exit %d: %s", code, stderr)
		}
	}
	_, stderr, code = execute(t, "import", "--dsn", masterDSN, "--map", mapFile, wrongFile)
	if code != exitcode.Rejected || !strings.Contains(stderr, "300 of the 300 rows of member") {
		t.Fatalf("import of the wrong database's full file: exit %d: %s", code, stderr)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))

	i := strings.Index(stderr, "anyway: ")
	if i < 0 {
		t.Fatalf("no command to apply it anyway: %s", stderr)
	}
	args := shellSplit(t, strings.TrimSpace(strings.SplitN(stderr[i+len("anyway: "):], "\n", 2)[0]))
	if len(args) < 2 || args[0] != "tributary" || args[1] != "import" {
		t.Fatalf("command %q", args)
	}
	if _, stderr, code := execute(t, args[1:]...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var n int
	if err := master.Get(&n, "SELECT COUNT(*) FROM member"); err != nil || n != 0 {
		t.Errorf("members on the master after applying it anyway: %d, %v", n, err)
	}
}

// untilOf reads a sync file's window end (RFC 3339 UTC sorts as text).
func untilOf(t *testing.T, path string) string {
	t.Helper()
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Header().Until
}

// In an inbox the refused file stays, its .why gives the counts and the
// command, and cron hears exit 3 every run until the admin decides.
func TestInboxHeldFileCommand(t *testing.T) {
	child, childDSN := memberDatabase(t, 300)
	_, masterDSN := memberDatabase(t, 0)
	mapFile := writeMap(t, t.TempDir(), "map.yaml", memberMap)
	inbox := t.TempDir()
	exportTo := func() {
		if _, stderr, code := execute(t, "export", "--dsn", childDSN, "--prefix", "nyc", "--map", mapFile, "--out", inbox, "--lag", "0s"); code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
	}
	importInbox := func() (string, int) {
		_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", mapFile, "--inbox", inbox, "--max-delete", "50%")
		return stderr, code
	}
	exportTo()
	if stderr, code := importInbox(); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	dbtest.Exec(t, child, "DELETE FROM member WHERE id > 100")
	exportTo()
	stderr, code := importInbox()
	name := "nyc-0000000002-incr.jsonl.gz"
	if code != exitcode.Rejected || !strings.Contains(stderr, name+" stays in the inbox") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	why, err := os.ReadFile(filepath.Join(inbox, name+".why"))
	if err != nil {
		t.Fatal(err)
	}
	want := "tributary import --dsn " + shellQuote(masterDSN) + " --map " + mapFile + " --max-delete 100% " + filepath.Join(inbox, name)
	for _, w := range []string{"200 of the 300 rows of member (67%)", "more than --max-delete 50%", want} {
		if !strings.Contains(string(why), w) {
			t.Errorf(".why lacks %q:\n%s", w, why)
		}
	}
	if strings.Contains(string(why), "--inbox") {
		t.Errorf(".why's command would apply the whole inbox:\n%s", why)
	}
}

// shellSplit splits a command line as a POSIX shell would, for the single
// quotes shellQuote writes.
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(ch)
		case ch == '\'':
			quoted, inArg = true, true
		case ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inArg = true
		case ch == ' ':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
