// Package database opens tributary's connections with the session settings
// the sync depends on, quotes identifiers, and runs transactions on pinned
// connections. It is the only place that builds DSNs.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// Source says where one database's connection settings come from: a DSN
// given on the command line, the [client] section of option files, or an
// environment variable, in that order of precedence.
type Source struct {
	Role              string // "database", "child", "master": names it in messages
	DSN               string // --dsn
	DefaultsFile      string // --defaults-file
	DefaultsExtraFile string // --defaults-extra-file, read after DefaultsFile
	EnvVar            string // e.g. TRIBUTARY_DSN
	EnvDSN            string // the value of EnvVar
	FromFlag          bool   // the DSN came on the command line, where ps shows it
	TLS               TLSOptions
}

// TLSOptions are passed to the driver when Mode is not empty.
type TLSOptions struct {
	Mode       string // "", "true", "skip-verify", "preferred"
	CAFile     string
	ServerName string
}

// Config resolves the source into a driver configuration. It fails with a
// message that names what is missing, never with the password in it.
func (s Source) Config() (*mysql.Config, error) {
	cfg, err := s.base()
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("%s connection names no database: add it to the DSN (user@tcp(host:3306)/dbname) or to the option file (database=...)", s.Role)
	}
	if err := s.TLS.apply(cfg); err != nil {
		return nil, err
	}
	applySession(cfg)
	return cfg, nil
}

// base picks the first source that is given. Option files without a
// [client] section (only tributary's own groups) leave the connection to
// the environment.
func (s Source) base() (*mysql.Config, error) {
	if s.DSN != "" {
		cfg, err := mysql.ParseDSN(s.DSN)
		if err != nil {
			return nil, fmt.Errorf("%s DSN: %s", s.Role, scrubDSNError(err, s.DSN))
		}
		return cfg, nil
	}
	if s.DefaultsFile != "" || s.DefaultsExtraFile != "" {
		files, err := ReadOptionFiles(s.DefaultsFile, s.DefaultsExtraFile)
		if err != nil {
			return nil, err
		}
		if values := files.clientValues(); values != nil {
			cfg := mysql.NewConfig()
			if err := applyClientOptions(values, cfg); err != nil {
				return nil, err
			}
			return cfg, nil
		}
	}
	if s.EnvDSN != "" {
		cfg, err := mysql.ParseDSN(s.EnvDSN)
		if err != nil {
			return nil, fmt.Errorf("%s DSN from %s: %s", s.Role, s.EnvVar, scrubDSNError(err, s.EnvDSN))
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("no %s connection: give --dsn, a [client] section in --defaults-file, or set %s", s.Role, s.EnvVar)
}

// PasswordOnCommandLine reports whether the DSN flag carries a password,
// which any user of the machine can read with ps.
func (s Source) PasswordOnCommandLine() bool {
	if !s.FromFlag || s.DSN == "" {
		return false
	}
	cfg, err := mysql.ParseDSN(s.DSN)
	return err == nil && cfg.Passwd != ""
}

// applySession sets what every tributary session needs: UTC for TIMESTAMP
// values, utf8mb4 so no character is mangled, and raw date strings so zero
// dates and full precision survive (DESIGN.md section 4).
func applySession(cfg *mysql.Config) {
	cfg.ParseTime = false
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	cfg.AllowAllFiles = false
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
}

// Open connects and pings, so a dead server or a refused login is reported
// at once as one clear line that names the server but not the password.
func Open(ctx context.Context, cfg *mysql.Config) (*sqlx.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", Describe(cfg), err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "mysql")
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %s", Describe(cfg), cleanDriverError(err, cfg))
	}
	return db, nil
}

// Describe names a connection for messages: user@address/database, never the password.
func Describe(cfg *mysql.Config) string {
	return fmt.Sprintf("%s@%s(%s)/%s", cfg.User, cfg.Net, cfg.Addr, cfg.DBName)
}

// cleanDriverError turns the driver's error into a short sentence. Only the
// text that comes from the server or the driver is scrubbed of the
// password, where it holds it exactly: our own words stay as written, even
// when the password is a word of them.
func cleanDriverError(err error, cfg *mysql.Config) string {
	msg := err.Error()
	var myErr *mysql.MySQLError
	switch {
	case errors.As(err, &myErr) && myErr.Number == 1045:
		return loginRefused(myErr.Message, cfg)
	case errors.As(err, &myErr) && myErr.Number == 1049:
		return fmt.Sprintf("database %q does not exist", cfg.DBName)
	case errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, io.EOF):
		return "the server closed the connection"
	case strings.Contains(msg, "connection refused"):
		return "connection refused: is the server running and listening there?"
	case strings.Contains(msg, "no such file or directory"):
		return "no server socket there: is the server running?"
	}
	return scrub(msg, cfg.Passwd)
}

// accountRE finds the account in the server's "Access denied for user
// 'u'@'host'" message.
var accountRE = regexp.MustCompile(`'[^']*'@'[^']*'`)

// loginRefused names the account as the server saw it: the user, and the
// host the server matched accounts against. That host is the only clue
// when an account exists for another host ('localhost' is not 127.0.0.1).
func loginRefused(serverText string, cfg *mysql.Config) string {
	account := scrub(accountRE.FindString(serverText), cfg.Passwd)
	if account == "" {
		return "login refused (wrong user or password)"
	}
	msg := "login refused for " + account + " (wrong user or password, or no such account for that host"
	if strings.HasSuffix(account, "@'127.0.0.1'") || strings.HasSuffix(account, "@'::1'") {
		// The server skips name resolution: a TCP connection from this
		// machine is not 'localhost' to it.
		msg += ": an account made for 'localhost' does not match it; connect through the server's socket (socket= in the option file)"
	}
	msg += ")"
	return msg
}

func scrubDSNError(err error, dsn string) string {
	msg := err.Error()
	if cfg, perr := mysql.ParseDSN(dsn); perr == nil {
		return scrub(msg, cfg.Passwd)
	}
	// The DSN did not parse, so we cannot know the password: never echo the DSN.
	if i := strings.Index(dsn, "@"); i >= 0 {
		msg = strings.ReplaceAll(msg, dsn[:i], "***")
	}
	return msg
}

// scrub hides every exact occurrence of secret (and of its URL-escaped
// form, as a DSN carries it) in text that is not ours.
func scrub(msg, secret string) string {
	if secret == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, secret, "***")
	return strings.ReplaceAll(msg, url.QueryEscape(secret), "***")
}

func (t TLSOptions) apply(cfg *mysql.Config) error {
	switch t.Mode {
	case "", "false":
		return nil
	case "skip-verify", "preferred":
		cfg.TLSConfig = t.Mode
		return nil
	case "true":
		tlsConfig, err := t.build()
		if err != nil {
			return err
		}
		cfg.TLS = tlsConfig
		return nil
	default:
		return fmt.Errorf("--tls %q: use true, skip-verify, preferred or false", t.Mode)
	}
}
