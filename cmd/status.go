package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/internal/exitcode"
	"tributary/mapping"
)

type statusOptions struct {
	files  optionFileOptions
	conn   *connectionOptions
	json   bool
	check  bool
	maxLag time.Duration
	inbox  string
}

func (o *statusOptions) AddFlags(flags *pflag.FlagSet) {
	o.files.AddFlags(flags, "status", true)
	o.conn.AddFlags(flags)
	flags.BoolVar(&o.json, "json", false, "print one JSON document (format documented in docs/monitoring.md) instead of tables")
	flags.BoolVar(&o.check, "check", false, "for monitoring: one line \"TRIBUTARY OK - ...\" and exit 0, or one \"TRIBUTARY CRITICAL - ...\" line per problem and exit 1")
	flags.DurationVar(&o.maxLag, "max-lag", 2*time.Hour, "with --check: a prefix whose newest data on the master is older than this is a problem")
	flags.StringVar(&o.inbox, "inbox", "", "with --check: the import inbox; a rejected file waiting in DIR/failed is a problem")
}

func (o *statusOptions) Check() error {
	if o.maxLag <= 0 {
		return exitcode.Errorf(exitcode.Usage, "--max-lag must be positive")
	}
	if o.check && o.inbox != "" {
		if info, err := os.Stat(o.inbox); err != nil || !info.IsDir() {
			return exitcode.Errorf(exitcode.Usage, "--inbox %s: not an existing directory", o.inbox)
		}
	}
	return nil
}

func newStatusCommand() *cobra.Command {
	opts := &statusOptions{}
	opts.conn = newConnectionOptions("master", "", "TRIBUTARY_DSN").withOptionFiles(&opts.files)
	c := &cobra.Command{
		Use:   "status --dsn DSN [--json] [--check [--max-lag D] [--inbox DIR]]",
		Short: "Show what the master holds of each child",
		Long: `status reads the master's ledger (tributary_ledger) and mapping tables
(mapping_master_PREFIX) and shows, per child prefix: the last sequence
applied, its stream and mode, its window [since, until), when it was
applied, the lag (the master's clock now minus the window's end: how old the
newest data of that child on the master may be), and how many rows of each
table are mapped.

--json prints one stable JSON document instead ("format_version": 1; every
field is described in docs/monitoring.md), for monitoring scripts.
An account with SELECT on the master is enough.

--check turns status into a monitoring check (Nagios, Icinga, a systemd
OnFailure= unit): it prints "TRIBUTARY OK - ..." and exits 0 when every
prefix's newest data is at most --max-lag old (default 2h) and, with --inbox
DIR, no rejected file waits in DIR/failed; otherwise it prints one line
"TRIBUTARY CRITICAL - PREFIX: ..." per problem and exits 1. A master that
cannot be read is a CRITICAL line too. With --json the document carries the
problems as "problems".

` + optionFileHelp("status") + `

` + exitCodesHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.Check(); err != nil {
				return err
			}
			return runStatus(c.Context(), c, opts)
		},
	}
	opts.AddFlags(c.Flags())
	return c
}

// statusDoc is the --json document. Its fields are a contract
// (docs/monitoring.md): add fields, never change or remove one.
type statusDoc struct {
	FormatVersion int            `json:"format_version"`
	Database      string         `json:"database"`
	Now           string         `json:"now"`
	Prefixes      []prefixStatus `json:"prefixes"`
	// Problems is set by --check only: what makes the check fail.
	Problems *[]string `json:"problems,omitempty"`
}

type prefixStatus struct {
	Prefix       string           `json:"prefix"`
	LastSequence *uint64          `json:"last_sequence"`
	Stream       *string          `json:"stream"`
	Mode         *string          `json:"mode"`
	Since        *string          `json:"since"`
	Until        *string          `json:"until"`
	AppliedAt    *string          `json:"applied_at"`
	LagSeconds   *float64         `json:"lag_seconds"`
	FileName     *string          `json:"file_name"`
	FilesApplied int              `json:"files_applied"`
	MappedRows   map[string]int64 `json:"mapped_rows"`
}

func runStatus(ctx context.Context, c *cobra.Command, opts *statusOptions) error {
	doc, err := statusOf(ctx, c, opts)
	if err != nil {
		if opts.check && exitcode.Code(err) == exitcode.Failure {
			// A master that cannot be read is the monitoring check's business.
			fmt.Fprintf(c.OutOrStdout(), "%s CRITICAL - %v\n", checkLabel, err)
		}
		return err
	}
	if opts.check {
		problems, err := statusProblems(doc, opts.maxLag, opts.inbox)
		if err != nil {
			return err
		}
		if !opts.json {
			return printCheck(c.OutOrStdout(), doc, problems, opts.maxLag)
		}
		doc.Problems = &problems
		if err := printStatusJSON(c.OutOrStdout(), doc); err != nil {
			return err
		}
		if len(problems) > 0 {
			return checkFailed(len(problems))
		}
		return nil
	}
	if opts.json {
		return printStatusJSON(c.OutOrStdout(), doc)
	}
	printStatus(c.OutOrStdout(), doc)
	return nil
}

func statusOf(ctx context.Context, c *cobra.Command, opts *statusOptions) (*statusDoc, error) {
	db, err := opts.conn.open(ctx, c.Flags(), outputOf(c))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return readStatus(ctx, db)
}

func printStatusJSON(w io.Writer, doc *statusDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func readStatus(ctx context.Context, db *sqlx.DB) (*statusDoc, error) {
	h, err := mapping.ReadHoldings(ctx, db)
	if err != nil {
		return nil, err
	}
	doc := &statusDoc{FormatVersion: 1, Database: h.Database, Now: h.Now.Format(time.RFC3339Nano), Prefixes: []prefixStatus{}}
	for _, held := range h.Prefixes {
		ps := prefixStatus{Prefix: held.Prefix, FilesApplied: held.FilesApplied, MappedRows: held.Mapped}
		if e := held.Last; e != nil {
			seq, stream, mode, file := e.Sequence, e.Stream, e.Mode, e.FileName
			until, applied := rfc(e.Until), rfc(e.Applied)
			lag := h.Now.Sub(e.Until).Seconds()
			ps.LastSequence, ps.Stream, ps.Mode, ps.FileName = &seq, &stream, &mode, &file
			ps.Until, ps.AppliedAt, ps.LagSeconds = &until, &applied, &lag
			if e.Since != nil {
				since := rfc(*e.Since)
				ps.Since = &since
			}
		}
		doc.Prefixes = append(doc.Prefixes, ps)
	}
	return doc, nil
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// printStatus writes the readable form: one line per prefix, then the
// mapped rows per table with one column per prefix.
func printStatus(w io.Writer, doc *statusDoc) {
	if len(doc.Prefixes) == 0 {
		fmt.Fprintf(w, "no child has been imported yet into %s (no tributary_ledger, no mapping_master_* tables)\n", doc.Database)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tSEQUENCE\tMODE\tWINDOW SINCE (UTC)\tWINDOW UNTIL (UTC)\tAPPLIED (UTC)\tLAG\tFILES")
	for _, p := range doc.Prefixes {
		if p.LastSequence == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\tnothing applied yet\t%d\n", p.Prefix, p.FilesApplied)
			continue
		}
		since := "(full)"
		if p.Since != nil {
			since = short(*p.Since)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\n", p.Prefix, *p.LastSequence, *p.Mode, since, short(*p.Until), short(*p.AppliedAt), lagText(*p.LagSeconds), p.FilesApplied)
	}
	tw.Flush()

	tables := map[string]bool{}
	for _, p := range doc.Prefixes {
		for t := range p.MappedRows {
			tables[t] = true
		}
	}
	if len(tables) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRows mapped (master rows holding each child's rows):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := []string{"TABLE"}
	for _, p := range doc.Prefixes {
		head = append(head, p.Prefix)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, t := range sortedKeys(tables) {
		row := []string{t}
		for _, p := range doc.Prefixes {
			row = append(row, fmt.Sprint(p.MappedRows[t]))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

// short prints an RFC 3339 time as "2006-01-02 15:04:05".
func short(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func lagText(secs float64) string {
	d := time.Duration(secs * float64(time.Second))
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
