package cmd

import (
	"context"
	"fmt"
	"os"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/pflag"

	"tributary/internal/database"
	"tributary/internal/exitcode"
)

// connectionOptions are the flags that say how to reach one database.
// prefix is "" for --dsn, "child-" for --child-dsn and so on. The one
// connection of a command (prefix "") reads [client] from the command's
// --defaults-file and --defaults-extra-file; verify's two read theirs from
// --child-defaults-file and --master-defaults-file.
type connectionOptions struct {
	role, prefix, envVar string
	dsn, defaultsFile    string
	files                *optionFileOptions // the command's, for prefix ""
	tls                  database.TLSOptions
}

func newConnectionOptions(role, prefix, envVar string) *connectionOptions {
	return &connectionOptions{role: role, prefix: prefix, envVar: envVar}
}

// withOptionFiles makes the connection read [client] from the command's
// option files.
func (o *connectionOptions) withOptionFiles(files *optionFileOptions) *connectionOptions {
	o.files = files
	return o
}

func (o *connectionOptions) AddFlags(flags *pflag.FlagSet) {
	flags.StringVar(&o.dsn, o.prefix+"dsn", "", fmt.Sprintf("%s DSN, user[:password]@tcp(host:3306)/dbname (or set %s, or use --%sdefaults-file; a password here is visible in ps)", o.role, o.envVar, o.prefix))
	if o.files == nil {
		flags.StringVar(&o.defaultsFile, o.prefix+"defaults-file", "", "MySQL option file whose [client] section has the "+o.role+"'s user, password, host, port, socket, database (must not be readable by others)")
	}
	flags.StringVar(&o.tls.Mode, o.prefix+"tls", "", "TLS to the server: true (verify), skip-verify, preferred, false")
	flags.StringVar(&o.tls.CAFile, o.prefix+"tls-ca", "", "CA certificate file (PEM) to verify the server with --tls=true")
	flags.StringVar(&o.tls.ServerName, o.prefix+"tls-server-name", "", "server name to verify in the certificate, when it differs from the host")
}

func (o *connectionOptions) source(flags *pflag.FlagSet) database.Source {
	src := database.Source{
		Role:         o.role,
		DSN:          o.dsn,
		DefaultsFile: o.defaultsFile,
		EnvVar:       o.envVar,
		EnvDSN:       os.Getenv(o.envVar),
		FromFlag:     setOnCommandLine(flags, o.prefix+"dsn"),
		TLS:          o.tls,
	}
	if o.files != nil {
		src.DefaultsFile, src.DefaultsExtraFile = o.files.defaultsFile, o.files.extraFile
	}
	return src
}

// open resolves and opens the connection. A configuration mistake exits 2;
// an unreachable server or a refused login exits 1. A password given on the
// command line works, with a warning, because ps shows it to every user.
func (o *connectionOptions) open(ctx context.Context, flags *pflag.FlagSet, out *output) (*sqlx.DB, error) {
	src := o.source(flags)
	cfg, err := src.Config()
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	if src.PasswordOnCommandLine() {
		out.Warn(fmt.Sprintf("the password in --%sdsn is visible to every user of this machine (ps); use %s or --%sdefaults-file instead", o.prefix, o.envVar, o.prefix))
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Failure, err)
	}
	return db, nil
}
