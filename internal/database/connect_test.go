package database_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/database"
	"tributary/internal/dbtest"
)

func TestSessionSettings(t *testing.T) {
	db, _ := dbtest.NewDatabase(t)
	var tz, charset, collation string
	if err := db.QueryRow("SELECT @@session.time_zone, @@character_set_client, @@collation_connection").Scan(&tz, &charset, &collation); err != nil {
		t.Fatal(err)
	}
	if tz != "+00:00" || charset != "utf8mb4" || !strings.HasPrefix(collation, "utf8mb4") {
		t.Errorf("session time_zone=%s charset=%s collation=%s", tz, charset, collation)
	}
	// parseTime=false: a zero date reaches us exactly as the server prints it.
	var zero string
	if err := db.QueryRow("SELECT CAST('0000-00-00 00:00:00' AS DATETIME)").Scan(&zero); err != nil {
		t.Fatal(err)
	}
	if zero != "0000-00-00 00:00:00" {
		t.Errorf("zero date came back as %q", zero)
	}
}

func TestOptionFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "child.cnf")
	content := "[mysqld]\nuser=wrong\n[client]\nuser = sync\npassword = \"p#ss w0rd\"\nhost=db.example\nport=3307\ndatabase=civicrm # the branch\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := database.Source{Role: "child", DefaultsFile: path, EnvVar: "TRIBUTARY_DSN"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "sync" || cfg.Passwd != "p#ss w0rd" || cfg.Addr != "db.example:3307" || cfg.Net != "tcp" || cfg.DBName != "civicrm" {
		t.Errorf("config = user %q pass %q %s(%s) db %q", cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName)
	}
	if cfg.Params["time_zone"] != "'+00:00'" || cfg.ParseTime {
		t.Errorf("session settings missing: %v parseTime=%t", cfg.Params, cfg.ParseTime)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = database.Source{Role: "child", DefaultsFile: path}.Config()
	if err == nil || !strings.Contains(err.Error(), "readable by every user") || strings.Contains(err.Error(), "p#ss") {
		t.Errorf("world-readable option file: %v", err)
	}
}

func TestSourcePrecedenceAndMessages(t *testing.T) {
	src := database.Source{Role: "master", EnvVar: "TRIBUTARY_MASTER_DSN"}
	if _, err := src.Config(); err == nil || !strings.Contains(err.Error(), "TRIBUTARY_MASTER_DSN") {
		t.Errorf("no source: %v", err)
	}
	src = database.Source{Role: "master", DSN: "u:topsecret@tcp(h:3306)/", FromFlag: true}
	if _, err := src.Config(); err == nil || !strings.Contains(err.Error(), "names no database") || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("no database: %v", err)
	}
	if !src.PasswordOnCommandLine() {
		t.Error("a password in --dsn must be flagged")
	}
	env := database.Source{Role: "master", EnvDSN: "u:topsecret@tcp(h:3306)/db"}
	if env.PasswordOnCommandLine() {
		t.Error("a password from the environment is not on the command line")
	}
	flag := database.Source{Role: "master", DSN: "a@tcp(flag:1)/x", EnvDSN: "b@tcp(env:1)/y"}
	if cfg, err := flag.Config(); err != nil || cfg.Addr != "flag:1" {
		t.Errorf("--dsn must win over the environment: %v %v", cfg, err)
	}
	bad := database.Source{Role: "child", DSN: "u:topsecret@tcp(h:3306/db"}
	if _, err := bad.Config(); err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("bad DSN error leaks or is missing: %v", err)
	}
}

func TestOpenRefusedLoginHidesPassword(t *testing.T) {
	server := dbtest.ServerConfig(t)
	cfg := server.Clone()
	cfg.User, cfg.Passwd, cfg.DBName = "tributary_nobody", "s3cr3t-pw", "mysql"
	src := database.Source{Role: "child", DSN: cfg.FormatDSN()}
	full, err := src.Config()
	if err != nil {
		t.Fatal(err)
	}
	_, err = database.Open(context.Background(), full)
	if err == nil || !strings.Contains(err.Error(), "login refused") || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("refused login: %v", err)
	}
}

// TestLoginRefusedNamesAccount: an account that exists for 'localhost'
// only, reached over TCP with the password "user". The message keeps its
// own words and says which account the server saw.
func TestLoginRefusedNamesAccount(t *testing.T) {
	server := dbtest.ServerConfig(t)
	adminCfg := server.Clone()
	adminCfg.DBName = ""
	admin, err := database.Open(context.Background(), adminCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	user := "trib_login_" + hex.EncodeToString(b[:])
	who := "'" + user + "'@'localhost'" // a name made here, not input
	if _, err := admin.Exec("CREATE USER " + who + " IDENTIFIED BY 'the-real-one'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP USER " + who) })

	cfg := server.Clone()
	cfg.User, cfg.Passwd, cfg.DBName = user, "user", "mysql"
	full, err := database.Source{Role: "child", DSN: cfg.FormatDSN()}.Config()
	if err != nil {
		t.Fatal(err)
	}
	_, err = database.Open(context.Background(), full)
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "login refused for '"+user+"'@'") || !strings.Contains(msg, "(wrong user or password") {
		t.Errorf("refused login does not name the account or lost its words: %s", msg)
	}
}
