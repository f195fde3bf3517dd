package cmd

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// account creates a MySQL account with the given privileges on db's
// database and returns its DSN, which carries its password; the account
// goes when the test ends.
func account(t *testing.T, db *sqlx.DB, privileges string) (dsn, password string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	user, pass := "trib_sec_"+hex.EncodeToString(b[:3]), "Pw-"+hex.EncodeToString(b[:])
	name := masterDatabaseName(t, db)
	who := fmt.Sprintf("'%s'@'%%'", user) // names made here, not input
	dbtest.Exec(t, db,
		fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", who, pass),
		fmt.Sprintf("GRANT %s ON %s.* TO %s", privileges, database.QuoteIdent(name), who))
	t.Cleanup(func() { db.Exec("DROP USER " + who) })
	cfg := dbtest.ServerConfig(t).Clone()
	cfg.User, cfg.Passwd, cfg.DBName = user, pass, name
	return cfg.FormatDSN(), pass
}

// noSecret fails when any output holds the password.
func noSecret(t *testing.T, secret string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("the password appears in the output:\n%s", out)
		}
	}
}

// Export with an account that has nothing but SELECT, and import with one
// that has SELECT, INSERT, UPDATE and DELETE once the first run (as an
// account that may CREATE) made the mapping and ledger tables — both
// through the command line, on the CiviCRM schema. Its master has
// triggers on synced tables: their bodies are visible only with the
// TRIGGER privilege, which import needs to undo what they change.
func TestLeastPrivilegeAccounts(t *testing.T) {
	for _, tt := range []struct {
		name, grant string
		withTrigger bool
	}{
		{"master with TRIGGER", "SELECT, INSERT, UPDATE, DELETE, TRIGGER", true},
		// Without TRIGGER the account sees the triggers but not their
		// bodies: import still works, and warns that it cannot undo them.
		{"master without TRIGGER", "SELECT, INSERT, UPDATE, DELETE", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leastPrivilege(t, tt.grant, tt.withTrigger)
		})
	}
}

func leastPrivilege(t *testing.T, masterGrant string, withTrigger bool) {
	child, _ := civiDatabase(t, 30)
	master, masterRoot := civiDatabase(t, 0)
	childDSN, childPass := account(t, child, "SELECT")
	masterDSN, masterPass := account(t, master, masterGrant)
	out := t.TempDir()
	exports := 0
	exportAs := func(dsn string) string {
		t.Helper()
		t.Setenv("TRIBUTARY_DSN", dsn)
		stdout, stderr, code := execute(t, "export", "--prefix", "nyc", "--map", "civicrm", "--out", out, "--lag", "0s", "--no-gzip")
		if code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
		// Said on the first run; the state file remembers it was said.
		if exports++; strings.Contains(stderr, "INNODB_TRX") != (exports == 1) {
			t.Errorf("export %d without PROCESS: %s", exports, stderr)
		}
		noSecret(t, childPass, stdout, stderr)
		return strings.TrimSpace(stdout)
	}

	// The first import of a prefix creates tables: the narrow account
	// cannot, and says so (exit 1, nothing applied).
	first := exportAs(childDSN)
	t.Setenv("TRIBUTARY_DSN", masterDSN)
	_, stderr, code := execute(t, "import", "--map", "civicrm", first)
	if code != exitcode.Failure || !strings.Contains(stderr, "CREATE command denied") {
		t.Errorf("first import without CREATE: exit %d: %s", code, stderr)
	}
	noSecret(t, masterPass, stderr)
	t.Setenv("TRIBUTARY_DSN", masterRoot)
	if _, stderr, code := execute(t, "import", "--map", "civicrm", first); code != 0 {
		t.Fatalf("first import as an account that may CREATE: exit %d: %s", code, stderr)
	}

	// Later files: the child changes, the narrow accounts on both sides.
	dbtest.Exec(t, child,
		"UPDATE civicrm_contact SET first_name = 'Renamed', modified_date = UTC_TIMESTAMP() WHERE id IN (SELECT contact_id FROM civicrm_email)",
		"DELETE FROM civicrm_email WHERE id = (SELECT MIN(id) FROM civicrm_email)")
	waitNextSecond(t, child)
	next := exportAs(childDSN)
	t.Setenv("TRIBUTARY_DSN", masterDSN)
	_, stderr, code = execute(t, "import", "--map", "civicrm", "-v", next)
	if code != 0 {
		t.Fatalf("import as %s: exit %d: %s", masterGrant, code, stderr)
	}
	noSecret(t, masterPass, stderr)
	if !withTrigger {
		if !strings.Contains(stderr, "GRANT TRIGGER") {
			t.Errorf("import without TRIGGER does not say the triggers are hidden: %s", stderr)
		}
		return // the master's triggers changed rows import could not see to undo
	}
	assertMirrors(t, child, master)
}

// waitNextSecond waits until the database's clock has passed the second
// of the last change, so the next window holds it.
func waitNextSecond(t *testing.T, db *sqlx.DB) {
	t.Helper()
	if _, err := db.Exec("DO SLEEP(1.1)"); err != nil {
		t.Fatal(err)
	}
}

// A password inside --dsn works but warns, pointing to the safer ways;
// from the environment it does not warn. No output of a succeeding or a
// failing run holds the password.
func TestPasswordOnCommandLine(t *testing.T) {
	child, _, mapFile := exportChild(t, 3)
	userDSN, pass := account(t, child, "SELECT")
	out := t.TempDir()
	t.Setenv("TRIBUTARY_DSN", "")

	stdout, stderr, code := execute(t, "export", "--dsn", userDSN, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"warning", "--dsn", "ps", "TRIBUTARY_DSN", "--defaults-file"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the warning lacks %q: %s", want, stderr)
		}
	}
	noSecret(t, pass, stdout, stderr)

	t.Setenv("TRIBUTARY_DSN", userDSN)
	_, stderr, code = execute(t, "export", "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s")
	if code != 0 || strings.Contains(stderr, "visible to every user") {
		t.Errorf("from the environment: exit %d, stderr %s", code, stderr)
	}
	t.Setenv("TRIBUTARY_DSN", "")

	cfg, err := mysql.ParseDSN(userDSN)
	if err != nil {
		t.Fatal(err)
	}
	wrongDB := cfg.Clone()
	wrongDB.DBName = "trib_no_such_database"
	wrongPass := cfg.Clone()
	wrongPass.Passwd = pass + "-wrong"
	deadServer := cfg.Clone()
	deadServer.Addr = "127.0.0.1:1"
	damaged := filepath.Join(t.TempDir(), "nyc-0000000009-incr.jsonl")
	if err := os.WriteFile(damaged, []byte("{\"format\":\"tributary\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		secret   string
	}{
		{"no such database", []string{"export", "--dsn", wrongDB.FormatDSN(), "--prefix", "nyc", "--map", mapFile, "--out", out}, exitcode.Failure, pass},
		{"wrong password", []string{"export", "--dsn", wrongPass.FormatDSN(), "--prefix", "nyc", "--map", mapFile, "--out", out}, exitcode.Failure, wrongPass.Passwd},
		{"server down", []string{"check", "--dsn", deadServer.FormatDSN(), "--map", mapFile}, exitcode.Failure, pass},
		{"bad map", []string{"check", "--dsn", userDSN, "--map", "no-such-map"}, exitcode.Usage, pass},
		{"damaged file", []string{"import", "--dsn", userDSN, "--map", mapFile, damaged}, exitcode.Rejected, pass},
		{"malformed DSN", []string{"check", "--dsn", "u:" + pass + "@tcp(127.0.0.1:3306/x", "--map", mapFile}, exitcode.Usage, pass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := execute(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			noSecret(t, tt.secret, stdout, stderr)
			noSecret(t, strings.TrimPrefix(tt.secret, "Pw-"), stdout, stderr)
		})
	}
}

// An option file others can read is refused, as the mysql client refuses
// it, before any connection; at 0600 it works.
func TestOptionFileRefusedWhenReadable(t *testing.T) {
	child, _, mapFile := exportChild(t, 0)
	userDSN, pass := account(t, child, "SELECT")
	cfg, _ := mysql.ParseDSN(userDSN)
	host, port, _ := strings.Cut(cfg.Addr, ":")
	cnf := filepath.Join(t.TempDir(), "child.cnf")
	content := fmt.Sprintf("[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\ndatabase=%s\n", cfg.User, pass, host, port, cfg.DBName)
	if err := os.WriteFile(cnf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIBUTARY_DSN", "")
	for _, mode := range []os.FileMode{0o644, 0o604} {
		if err := os.Chmod(cnf, mode); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := execute(t, "check", "--defaults-file", cnf, "--map", mapFile)
		if code != exitcode.Usage || !strings.Contains(stderr, "readable by every user") || !strings.Contains(stderr, "chmod 600") {
			t.Errorf("mode %04o: exit %d: %s", mode, code, stderr)
		}
		noSecret(t, pass, stdout, stderr)
	}
	if err := os.Chmod(cnf, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := execute(t, "check", "--defaults-file", cnf, "--map", mapFile)
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Errorf("mode 0600: exit %d: %s", code, stderr)
	}
	noSecret(t, pass, stdout, stderr)
}

// TLS: --tls=true must verify, so a server that offers no TLS (the test
// server has none) is a clear failure, never a silent plain connection;
// a CA file that holds no certificate is a configuration error.
func TestTLSFlags(t *testing.T) {
	db, dsn, mapFile := exportChild(t, 0)
	var haveSSL string
	if err := db.QueryRow("SELECT @@have_ssl").Scan(&haveSSL); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("this is not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real certificate of some other CA: it cannot verify the server.
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(otherCA, selfSignedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIBUTARY_DSN", "")
	tests := []struct {
		name     string
		flags    []string
		wantCode int
		want     string
	}{
		{"CA file without a certificate", []string{"--tls", "true", "--tls-ca", notPEM}, exitcode.Usage, "no PEM certificate"},
		{"CA file missing", []string{"--tls", "true", "--tls-ca", notPEM + ".nope"}, exitcode.Usage, "--tls-ca"},
		{"unknown mode", []string{"--tls", "sometimes"}, exitcode.Usage, "use true, skip-verify, preferred or false"},
		{"a CA that does not verify the server", []string{"--tls", "true", "--tls-ca", otherCA}, exitcode.Failure, ""},
		{"verify without a CA file", []string{"--tls", "true"}, exitcode.Failure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--dsn", dsn, "--map", mapFile}, tt.flags...)
			_, stderr, code := execute(t, args...)
			t.Log(strings.TrimSpace(stderr))
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q: %s", code, tt.wantCode, tt.want, stderr)
			}
			if tt.wantCode == exitcode.Failure && haveSSL != "YES" && !strings.Contains(strings.ToLower(stderr), "tls") && !strings.Contains(strings.ToLower(stderr), "ssl") {
				t.Errorf("the message does not say TLS was the problem: %s", stderr)
			}
		})
	}
}

// selfSignedCA makes a CA certificate for this test only: it verifies
// no server.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tributary test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// forge rewrites a plain sync file as an attacker who changed a value
// would: the record count and SHA-256 recomputed, so only a signature can
// tell. hmacKey nil leaves the HMAC out; otherwise the trailer carries an
// HMAC made with that key.
func forge(t *testing.T, path, from, to string, hmacKey []byte) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	body := strings.Join(lines[:len(lines)-1], "\n") + "\n"
	if !strings.Contains(body, from) {
		t.Fatalf("%s holds no %q", path, from)
	}
	body = strings.Replace(body, from, to, 1)
	var trailer struct {
		End     bool   `json:"end"`
		Records int64  `json:"records"`
		SHA256  string `json:"sha256"`
		HMAC    string `json:"hmac,omitempty"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &trailer); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	trailer.SHA256 = hex.EncodeToString(sum[:])
	trailer.HMAC = ""
	if hmacKey != nil {
		mac := hmac.New(sha256.New, hmacKey)
		mac.Write([]byte(body))
		trailer.HMAC = hex.EncodeToString(mac.Sum(nil))
	}
	tb, _ := json.Marshal(trailer)
	forged := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(forged, []byte(body+string(tb)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return forged
}

// Signed files through the command line: export --sign-key-file signs,
// import --sign-key-file accepts only a valid signature. A forger who
// changes a value and recomputes the SHA-256 (with no HMAC, or an HMAC
// made with another key) is rejected with exit 3 and the master unchanged.
func TestSignedFilesCommandLine(t *testing.T) {
	child, childDSN := civiDatabase(t, 5)
	master, masterDSN := civiDatabase(t, 0)
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "sync.key")
	if err := os.WriteFile(key, []byte("a secret only child and master know\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := exportFile(t, childDSN, t.TempDir(), "--sign-key-file", key)
	if !strings.Contains(string(mustReadFile(t, file)), `"hmac":"`) {
		t.Fatal("export --sign-key-file wrote no HMAC")
	}
	var contactName string
	if err := child.Get(&contactName, "SELECT display_name FROM civicrm_contact WHERE display_name <> '' ORDER BY id LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	jsonName, _ := json.Marshal(contactName)
	from, to := string(jsonName), `"Mallory Forger"`
	before := dbtest.Checksums(t, master)
	for _, tt := range []struct {
		name string
		file string
		want string
	}{
		{"recomputed SHA-256, no HMAC", forge(t, file, from, to, nil), "not signed"},
		{"recomputed SHA-256, HMAC of another key", forge(t, file, from, to, []byte("a guessed key")), "signature (HMAC) does not match"},
		{"unsigned file", exportFile(t, childDSN, t.TempDir(), "--state", filepath.Join(t.TempDir(), "other.state")), "not signed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--sign-key-file", key, tt.file)
			if code != exitcode.Rejected || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 3 and %q: %s", code, tt.want, stderr)
			}
			dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))
		})
	}
	// The genuine file, signed with the shared key, applies.
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--sign-key-file", key, file); code != 0 {
		t.Fatalf("the genuine signed file: exit %d: %s", code, stderr)
	}
	assertMirrors(t, child, master)
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sync files are 0640 and state and lock files 0600 whatever the umask of
// the cron job that runs export: a umask of 0 must not make personal data
// world-readable, and 077 must not hide a file from the transport's group.
func TestFileModesIgnoreUmask(t *testing.T) {
	_, dsn, mapFile := exportChild(t, 3)
	bin := tributaryBinary(t)
	for _, umask := range []string{"0000", "0077"} {
		t.Run("umask "+umask, func(t *testing.T) {
			out := t.TempDir()
			for _, full := range []string{"--full", "--no-gzip"} { // a new state file, then a replaced one
				run := exec.Command("bash", "-c", "umask "+umask+` && exec "$0" "$@"`, bin, "export", "--dsn", dsn,
					"--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s", full)
				b, err := run.Output()
				if err != nil {
					t.Fatalf("export: %v: %s", err, b)
				}
				path := strings.TrimSpace(string(b))
				for file, want := range map[string]os.FileMode{
					path: 0o640,
					filepath.Join(out, ".tributary-nyc.state"):      0o600,
					filepath.Join(out, ".tributary-nyc.state.lock"): 0o600,
				} {
					info, err := os.Stat(file)
					if err != nil {
						t.Fatal(err)
					}
					if info.Mode().Perm() != want {
						t.Errorf("%s: mode %04o, want %04o", filepath.Base(file), info.Mode().Perm(), want)
					}
				}
			}
		})
	}
}
