package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/childdb"
	"tributary/internal/exitcode"
	"tributary/mapping"
	"tributary/schema"
	"tributary/verify"
)

type verifyOptions struct {
	files         optionFileOptions
	child, master *connectionOptions
	prefix        string
	mapName       string
	json          bool
	chunk         int
	maxReport     int
}

func (o *verifyOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "verify", false)
	o.child.AddFlags(flags)
	o.master.AddFlags(flags)
	flags.StringVar(&o.prefix, "prefix", "", "the child's prefix, as it exports")
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.BoolVar(&o.json, "json", false, "print one JSON document (format documented in docs/monitoring.md)")
	flags.IntVar(&o.chunk, "chunk", 1000, "keys per checksummed chunk")
	flags.IntVar(&o.maxReport, "max-report", 100, "list at most this many differences (0: all); the counts per table always cover every one")
}

func (o *verifyOptions) Check() error {
	switch {
	case o.prefix == "":
		return exitcode.Errorf(exitcode.Usage, "--prefix is required")
	case !childdb.PrefixPattern.MatchString(o.prefix):
		return exitcode.Errorf(exitcode.Usage, "--prefix %q is not valid: a lower-case letter, then up to 31 of a-z, 0-9, _", o.prefix)
	case o.mapName == "":
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	case o.chunk < 1:
		return exitcode.Errorf(exitcode.Usage, "--chunk must be at least 1")
	case o.maxReport < 0:
		return exitcode.Errorf(exitcode.Usage, "--max-report must not be negative (0 lists every difference)")
	}
	return nil
}

func newVerifyCommand() *cobra.Command {
	opts := &verifyOptions{
		child:  newConnectionOptions("child", "child-", "TRIBUTARY_CHILD_DSN"),
		master: newConnectionOptions("master", "master-", "TRIBUTARY_MASTER_DSN"),
	}
	c := &cobra.Command{
		Use:   "verify --child-dsn DSN --master-dsn DSN --prefix P --map MAP [--json] [--max-report N]",
		Short: "Compare a child with its rows on the master",
		Long: `verify compares one child database with the master's copy of its rows,
through the prefix's mapping table: table by table, column by column, with
every reference translated. It lists each difference as table, child ID,
master ID and kind: missing (on the child, not on the master), extra (on
the master, gone from the child), or changed (and which columns). It never
prints values: they are people's personal data.

It is fast on large tables: both servers compute checksums of chunks of
about --chunk keys (the master translating references through the mapping
table), and only chunks whose checksums differ are read row by row.

Rows changed on the child since its last export differ, of course: run
verify right after a sync, or when the child is quiet. An account with
SELECT is enough on both sides. Exit 0 when there is no difference, 1 when
there is (or the comparison failed).

At most --max-report differences (default 100) are listed, then the count
of every kind of difference per table, which covers them all: a child
paired with the wrong prefix says "300000 missing" in a few lines rather
than in 300000.

The child's and the master's connections come from --child-dsn and
--master-dsn, or from the [client] sections of --child-defaults-file and
--master-defaults-file. --defaults-file holds flags only, in [tributary]
and [tributary-verify] (child-defaults-file=/etc/tributary/nyc.cnf,
master-defaults-file=/etc/tributary/master.cnf, prefix=nyc, map=civicrm).

` + exitCodesHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.Check(); err != nil {
				return err
			}
			return runVerify(c.Context(), c, opts)
		},
	}
	opts.AddFlags(c.Flags())
	return c
}

// verifyDoc is the --json document (docs/monitoring.md).
type verifyDoc struct {
	FormatVersion int            `json:"format_version"`
	Prefix        string         `json:"prefix"`
	Equal         bool           `json:"equal"`
	Seconds       float64        `json:"seconds"`
	Differences   []verifyDiff   `json:"differences"`
	Counts        map[string]int `json:"counts"`
	Total         int64          `json:"total"`
	Truncated     bool           `json:"truncated"`
	TableCounts   []verifyCount  `json:"table_counts"`
}

type verifyDiff struct {
	Table    string   `json:"table"`
	ChildID  *int64   `json:"child_id"`
	MasterID *int64   `json:"master_id"`
	Key      string   `json:"key,omitempty"`
	Kind     string   `json:"kind"`
	Columns  []string `json:"columns,omitempty"`
}

type verifyCount struct {
	Table string `json:"table"`
	Kind  string `json:"kind"`
	Rows  int64  `json:"rows"`
}

func runVerify(ctx context.Context, c *cobra.Command, opts *verifyOptions) error {
	out := outputOf(c)
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	child, err := opts.child.open(ctx, c.Flags(), out)
	if err != nil {
		return err
	}
	defer child.Close()
	master, err := opts.master.open(ctx, c.Flags(), out)
	if err != nil {
		return err
	}
	defer master.Close()
	s, err := schema.Resolve(ctx, master, m)
	if err != nil {
		return err
	}
	prefixes, err := mapping.Prefixes(ctx, master)
	if err != nil {
		return err
	}
	if !contains(prefixes, opts.prefix) {
		return exitcode.Errorf(exitcode.Usage, "the master has no rows of prefix %s (no table mapping_master_%s): check --prefix and --master-dsn", opts.prefix, opts.prefix)
	}
	bar := out.progress()
	begun := false
	var shown int64
	start := time.Now()
	report, err := verify.Compare(ctx, child.DB, master.DB, s, opts.prefix, verify.Options{
		Chunk:     opts.chunk,
		Checksums: true,
		Keep:      opts.maxReport,
		Progress: func(done, total int64) {
			if !begun {
				bar.Begin("verify "+opts.prefix, total)
				begun = true
			}
			bar.Add(done - shown)
			shown = done
		},
	})
	bar.End()
	if err != nil {
		return err
	}
	took := time.Since(start)
	if opts.json {
		if err := printVerifyJSON(c.OutOrStdout(), opts.prefix, report, took); err != nil {
			return err
		}
	} else {
		printVerify(c.OutOrStdout(), opts.prefix, report, took)
	}
	if report.Total > 0 {
		return exitcode.Errorf(exitcode.Failure, "prefix %s: %s between the child and the master", opts.prefix, plural(report.Total, "difference"))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kindCounts totals a report's differences by kind.
func kindCounts(r *verify.Report) map[string]int {
	counts := map[string]int{string(verify.Missing): 0, string(verify.Extra): 0, string(verify.Changed): 0}
	for _, n := range r.Counts {
		counts[string(n.Kind)] += int(n.Rows)
	}
	return counts
}

// printVerify lists the differences as a table (IDs and column names
// only), at most --max-report of them, then always the counts per table.
func printVerify(w io.Writer, prefix string, r *verify.Report, took time.Duration) {
	if r.Total == 0 {
		fmt.Fprintf(w, "prefix %s: the master holds exactly the child's rows (compared in %.1f s)\n", prefix, took.Seconds())
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tCHILD ID\tMASTER ID\tDIFFERENCE")
	for _, d := range r.Differences {
		childID, masterID := idOrDash(d.ChildID), idOrDash(d.MasterID)
		if d.Key != "" {
			childID, masterID = d.Key, "-"
		}
		kind := string(d.Kind)
		if d.Kind == verify.Changed {
			kind += ": " + strings.Join(d.Columns, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Table, childID, masterID, kind)
	}
	tw.Flush()
	if int64(len(r.Differences)) < r.Total {
		fmt.Fprintf(w, "... and %d more (--max-report %d; --max-report 0 lists them all)\n", r.Total-int64(len(r.Differences)), len(r.Differences))
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tMISSING\tEXTRA\tCHANGED")
	for _, table := range countTables(r) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", table.name, table.rows[verify.Missing], table.rows[verify.Extra], table.rows[verify.Changed])
	}
	tw.Flush()
	k := kindCounts(r)
	fmt.Fprintf(w, "prefix %s: %s (%d missing, %d extra, %d changed), compared in %.1f s\n",
		prefix, plural(r.Total, "difference"), k["missing"], k["extra"], k["changed"], took.Seconds())
}

type tableCounts struct {
	name string
	rows map[verify.Kind]int64
}

// countTables groups a report's counts by table, in table order.
func countTables(r *verify.Report) []tableCounts {
	var out []tableCounts
	for _, n := range r.Counts {
		if len(out) == 0 || out[len(out)-1].name != n.Table {
			out = append(out, tableCounts{name: n.Table, rows: map[verify.Kind]int64{}})
		}
		out[len(out)-1].rows[n.Kind] = n.Rows
	}
	return out
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return fmt.Sprint(id)
}

func printVerifyJSON(w io.Writer, prefix string, r *verify.Report, took time.Duration) error {
	doc := verifyDoc{FormatVersion: 1, Prefix: prefix, Equal: r.Total == 0, Seconds: took.Seconds(),
		Differences: []verifyDiff{}, Counts: kindCounts(r), Total: r.Total,
		Truncated: int64(len(r.Differences)) < r.Total, TableCounts: []verifyCount{}}
	for _, d := range r.Differences {
		v := verifyDiff{Table: d.Table, Key: d.Key, Kind: string(d.Kind), Columns: d.Columns}
		if d.Key == "" {
			if d.ChildID != 0 {
				id := d.ChildID
				v.ChildID = &id
			}
			if d.MasterID != 0 {
				id := d.MasterID
				v.MasterID = &id
			}
		}
		doc.Differences = append(doc.Differences, v)
	}
	for _, n := range r.Counts {
		doc.TableCounts = append(doc.TableCounts, verifyCount{Table: n.Table, Kind: string(n.Kind), Rows: n.Rows})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func plural[N int | int64](n N, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
