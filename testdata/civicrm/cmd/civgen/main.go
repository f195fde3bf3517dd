// Command civgen creates the CiviCRM-shaped test schema in a database,
// fills it with generated contacts and changes them like users do. It is a
// development tool for tests, the demo and the benchmark:
//
//	go run ./testdata/civicrm/cmd/civgen --dsn 'root@tcp(127.0.0.1:3306)/child1' \
//	    --create-schema --contacts 100000
//	go run ./testdata/civicrm/cmd/civgen --dsn 'root@tcp(127.0.0.1:3306)/child1' --mutate 0.01
//
// Row counts per table go to standard error.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"tributary/testdata/civicrm"
)

type options struct {
	dsn          string
	createSchema bool
	generation   string
	contacts     int
	seed         int64
	mutate       float64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "civgen:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	db, err := open(opts.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.createSchema {
		if err := civicrm.CreateSchema(ctx, db, opts.generation); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created the CiviCRM %s schema\n", opts.generation)
	}
	if opts.contacts > 0 {
		start := time.Now()
		counts, err := civicrm.Generate(ctx, db, civicrm.GenerateOptions{Contacts: opts.contacts, Seed: opts.seed})
		if err != nil {
			return err
		}
		report(stderr, "generated", counts, time.Since(start))
	}
	if opts.mutate > 0 {
		start := time.Now()
		counts, err := civicrm.Mutate(ctx, db, civicrm.MutateOptions{Fraction: opts.mutate, Seed: opts.seed})
		if err != nil {
			return err
		}
		report(stderr, "mutated", counts, time.Since(start))
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("civgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", os.Getenv("TRIBUTARY_DSN"), "target database, as user:pass@tcp(host:3306)/db (default $TRIBUTARY_DSN)")
	fs.BoolVar(&o.createSchema, "create-schema", false, "create the tables, triggers and seed rows first (the database must be empty)")
	fs.StringVar(&o.generation, "generation", civicrm.Generation5, "schema generation for --create-schema: "+strings.Join(civicrm.Generations, ", ")+" (the first CiviCRM release of each)")
	fs.IntVar(&o.contacts, "contacts", 0, "generate this many contacts (about 11 rows each)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed: the same seed gives the same data")
	fs.Float64Var(&o.mutate, "mutate", 0, "change this fraction of the contacts (e.g. 0.01), after generating if both are given")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, usage(fs, "unexpected argument %q", fs.Arg(0))
	case o.dsn == "":
		return o, usage(fs, "--dsn is required")
	case !o.createSchema && o.contacts <= 0 && o.mutate <= 0:
		return o, usage(fs, "nothing to do: give --create-schema, --contacts N or --mutate FRACTION")
	case o.mutate < 0 || o.mutate > 1:
		return o, usage(fs, "--mutate must be in (0, 1]")
	}
	return o, nil
}

func usage(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "civgen: "+format+"\n", args...)
	fs.Usage()
	return errUsage
}

// open connects with the session settings tributary itself uses: UTC for
// TIMESTAMP values and utf8mb4.
func open(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("--dsn names no database: add /dbname")
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Collation = "utf8mb4_unicode_ci"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

func report(w io.Writer, what string, counts civicrm.Counts, took time.Duration) {
	for _, t := range counts.Tables() {
		fmt.Fprintf(w, "  %-28s %10d\n", t, counts[t])
	}
	fmt.Fprintf(w, "%s %d rows in %s\n", what, counts.Total(), took.Round(time.Millisecond))
}
