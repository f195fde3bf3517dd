package cmd

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/pflag"

	"tributary/internal/database"
	"tributary/internal/exitcode"
)

// connectionOptions are the flags that say how to reach one database.
// prefix is "" for --dsn, "child-" for --child-dsn and so on.
type connectionOptions struct {
	role, prefix, envVar string
	dsn, defaultsFile    string
	tls                  database.TLSOptions
}

func newConnectionOptions(role, prefix, envVar string) *connectionOptions {
	return &connectionOptions{role: role, prefix: prefix, envVar: envVar}
}

func (o *connectionOptions) AddFlags(flags *pflag.FlagSet) {
	flags.StringVar(&o.dsn, o.prefix+"dsn", "", fmt.Sprintf("%s DSN, user[:password]@tcp(host:3306)/dbname (or set %s, or use --%sdefaults-file; a password here is visible in ps)", o.role, o.envVar, o.prefix))
	flags.StringVar(&o.defaultsFile, o.prefix+"defaults-file", "", "MySQL option file whose [client] section has user, password, host, port, socket, database (must not be readable by others)")
	flags.StringVar(&o.tls.Mode, o.prefix+"tls", "", "TLS to the server: true (verify), skip-verify, preferred, false")
	flags.StringVar(&o.tls.CAFile, o.prefix+"tls-ca", "", "CA certificate file (PEM) to verify the server with --tls=true")
	flags.StringVar(&o.tls.ServerName, o.prefix+"tls-server-name", "", "server name to verify in the certificate, when it differs from the host")
}

func (o *connectionOptions) source(flags *pflag.FlagSet) database.Source {
	return database.Source{
		Role:         o.role,
		DSN:          o.dsn,
		DefaultsFile: o.defaultsFile,
		EnvVar:       o.envVar,
		EnvDSN:       os.Getenv(o.envVar),
		FromFlag:     flags.Changed(o.prefix + "dsn"),
		TLS:          o.tls,
	}
}

// open resolves and opens the connection. A configuration mistake exits 2;
// an unreachable server or a refused login exits 1. A password given on the
// command line works, with a warning, because ps shows it to every user.
func (o *connectionOptions) open(ctx context.Context, flags *pflag.FlagSet, stderr io.Writer) (*sqlx.DB, error) {
	src := o.source(flags)
	cfg, err := src.Config()
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	if src.PasswordOnCommandLine() {
		fmt.Fprintf(stderr, "tributary: warning: the password in --%sdsn is visible to every user of this machine (ps); use %s or --%sdefaults-file instead\n", o.prefix, o.envVar, o.prefix)
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Failure, err)
	}
	return db, nil
}
