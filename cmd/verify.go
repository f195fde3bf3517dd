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

	"tributary/internal/compare"
	"tributary/internal/exitcode"
	"tributary/internal/progress"
	"tributary/mapping"
	"tributary/schema"
	"tributary/syncfile"
)

type verifyOptions struct {
	child, master *connectionOptions
	prefix        string
	mapName       string
	json          bool
	chunk         int
}

func (o *verifyOptions) AddFlags(flags *pflag.FlagSet) {
	o.child.AddFlags(flags)
	o.master.AddFlags(flags)
	flags.StringVar(&o.prefix, "prefix", "", "the child's prefix, as it exports")
	flags.StringVar(&o.mapName, "map", "", "sync map file, or a built-in preset name ("+strings.Join(schema.PresetNames(), ", ")+")")
	flags.BoolVar(&o.json, "json", false, "print one JSON document (format documented in README.md)")
	flags.IntVar(&o.chunk, "chunk", 1000, "keys per checksummed chunk")
}

func (o *verifyOptions) Check() error {
	switch {
	case o.prefix == "":
		return exitcode.Errorf(exitcode.Usage, "--prefix is required")
	case !syncfile.PrefixPattern.MatchString(o.prefix):
		return exitcode.Errorf(exitcode.Usage, "--prefix %q is not valid: a lower-case letter, then up to 31 of a-z, 0-9, _", o.prefix)
	case o.mapName == "":
		return exitcode.Errorf(exitcode.Usage, "--map is required")
	case o.chunk < 1:
		return exitcode.Errorf(exitcode.Usage, "--chunk must be at least 1")
	}
	return nil
}

func newVerifyCommand() *cobra.Command {
	opts := &verifyOptions{
		child:  newConnectionOptions("child", "child-", "TRIBUTARY_CHILD_DSN"),
		master: newConnectionOptions("master", "master-", "TRIBUTARY_MASTER_DSN"),
	}
	c := &cobra.Command{
		Use:   "verify --child-dsn DSN --master-dsn DSN --prefix P --map MAP [--json]",
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

// verifyDoc is the --json document (README.md).
type verifyDoc struct {
	FormatVersion int            `json:"format_version"`
	Prefix        string         `json:"prefix"`
	Equal         bool           `json:"equal"`
	Seconds       float64        `json:"seconds"`
	Differences   []verifyDiff   `json:"differences"`
	Counts        map[string]int `json:"counts"`
}

type verifyDiff struct {
	Table    string   `json:"table"`
	ChildID  *int64   `json:"child_id"`
	MasterID *int64   `json:"master_id"`
	Key      string   `json:"key,omitempty"`
	Kind     string   `json:"kind"`
	Columns  []string `json:"columns,omitempty"`
}

func runVerify(ctx context.Context, c *cobra.Command, opts *verifyOptions) error {
	stderr := c.ErrOrStderr()
	m, err := schema.LoadMap(opts.mapName)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	child, err := opts.child.open(ctx, c.Flags(), stderr)
	if err != nil {
		return err
	}
	defer child.Close()
	master, err := opts.master.open(ctx, c.Flags(), stderr)
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
	bar := progress.ForTerminal(stderr)
	begun := false
	var shown int64
	start := time.Now()
	diffs, err := compare.Run(ctx, child.DB, master.DB, s, opts.prefix, compare.Options{
		Chunk:     opts.chunk,
		Checksums: true,
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
		if err := printVerifyJSON(c.OutOrStdout(), opts.prefix, diffs, took); err != nil {
			return err
		}
	} else {
		printVerify(c.OutOrStdout(), opts.prefix, diffs, took)
	}
	if len(diffs) > 0 {
		return exitcode.Errorf(exitcode.Failure, "prefix %s: %s between the child and the master", opts.prefix, plural(len(diffs), "difference"))
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

func kindCounts(diffs []compare.Difference) map[string]int {
	counts := map[string]int{string(compare.Missing): 0, string(compare.Extra): 0, string(compare.Changed): 0}
	for _, d := range diffs {
		counts[string(d.Kind)]++
	}
	return counts
}

// printVerify lists the differences as a table: IDs and column names only.
func printVerify(w io.Writer, prefix string, diffs []compare.Difference, took time.Duration) {
	if len(diffs) == 0 {
		fmt.Fprintf(w, "prefix %s: the master holds exactly the child's rows (compared in %.1f s)\n", prefix, took.Seconds())
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tCHILD ID\tMASTER ID\tDIFFERENCE")
	for _, d := range diffs {
		childID, masterID := idOrDash(d.ChildID), idOrDash(d.MasterID)
		if d.Key != "" {
			childID, masterID = d.Key, "-"
		}
		kind := string(d.Kind)
		if d.Kind == compare.Changed {
			kind += ": " + strings.Join(d.Columns, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Table, childID, masterID, kind)
	}
	tw.Flush()
	k := kindCounts(diffs)
	fmt.Fprintf(w, "prefix %s: %s (%d missing, %d extra, %d changed), compared in %.1f s\n",
		prefix, plural(len(diffs), "difference"), k["missing"], k["extra"], k["changed"], took.Seconds())
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return fmt.Sprint(id)
}

func printVerifyJSON(w io.Writer, prefix string, diffs []compare.Difference, took time.Duration) error {
	doc := verifyDoc{FormatVersion: 1, Prefix: prefix, Equal: len(diffs) == 0, Seconds: took.Seconds(),
		Differences: []verifyDiff{}, Counts: kindCounts(diffs)}
	for _, d := range diffs {
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
