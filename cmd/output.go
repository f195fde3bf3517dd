package cmd

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/internal/exitcode"
	"tributary/internal/progress"
)

// Log formats (--log-format).
const (
	logText = "text"
	logJSON = "json"
)

// outputOptions are the root's flags that say how much tributary tells on
// standard error, and in which form. Every command has them.
type outputOptions struct {
	verbose bool
	quiet   bool
	format  string
}

func (o *outputOptions) AddFlags(flags *pflag.FlagSet) {
	flags.BoolVarP(&o.verbose, "verbose", "v", false, "say more: a line per file applied, per table exported or imported")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "print errors only: no warnings, no progress, no per-file lines")
	flags.StringVar(&o.format, "log-format", logText, `messages on standard error as "text" lines or as "json", one object per line (for log collectors)`)
}

func (o *outputOptions) Check() error {
	switch {
	case o.format != logText && o.format != logJSON:
		return exitcode.Errorf(exitcode.Usage, "--log-format %q: use text or json", o.format)
	case o.quiet && o.verbose:
		return exitcode.Errorf(exitcode.Usage, "--quiet and --verbose contradict each other: give one")
	}
	return nil
}

// output is the one place that writes tributary's messages to standard
// error: errors, warnings and, when asked, a line per file. As text each
// is a line starting "tributary: " (what cron mails); with --log-format
// json each is one JSON object (log/slog) carrying the same message and
// its facts as fields. Results (a file's path, --json documents) go to
// standard output and never pass through here.
type output struct {
	mu      sync.Mutex
	w       io.Writer
	json    *slog.Logger // nil for text
	quiet   bool
	verbose bool
}

// outputOf builds the output of the command being run from the root's
// flags. It is cheap: commands call it once and pass it down.
func outputOf(c *cobra.Command) *output {
	flags := c.Root().PersistentFlags()
	format, _ := flags.GetString("log-format")
	quiet, _ := flags.GetBool("quiet")
	verbose, _ := flags.GetBool("verbose")
	o := &output{w: c.ErrOrStderr(), quiet: quiet, verbose: verbose && !quiet}
	if format == logJSON {
		level := slog.LevelInfo
		if quiet {
			level = slog.LevelError
		}
		o.json = slog.New(slog.NewJSONHandler(o.w, &slog.HandlerOptions{Level: level}))
	}
	return o
}

// text reports whether messages are text lines (as opposed to JSON).
func (o *output) text() bool { return o.json == nil }

// progress is the terminal's progress bar, or nothing at all when
// standard error is not a terminal, with --quiet, and with JSON logs.
func (o *output) progress() progress.Reporter {
	if o.quiet || !o.text() {
		return progress.Nop{}
	}
	return progress.ForTerminal(o.w)
}

// Error reports a failure: always shown, even with --quiet.
func (o *output) Error(msg string, attrs ...any) {
	if o.json != nil {
		o.json.Error(msg, attrs...)
		return
	}
	o.line("tributary: " + msg)
}

// Warn reports something the admin should look at that did not stop the
// run. With --quiet it is not shown.
func (o *output) Warn(msg string, attrs ...any) {
	switch {
	case o.quiet:
	case o.json != nil:
		o.json.Warn(msg, attrs...)
	default:
		o.line("tributary: warning: " + msg)
	}
}

// FileWarn is a warning about one sync file: "tributary: FILE: warning: ...".
func (o *output) FileWarn(file, msg string) {
	switch {
	case o.quiet:
	case o.json != nil:
		o.json.Warn(msg, "file", file)
	default:
		o.line("tributary: " + file + ": warning: " + msg)
	}
}

// WarnFunc adapts Warn to the domain packages' Warn callbacks. A message
// of the form "FILE: warning: ..." becomes a file warning, so JSON logs
// carry the file as a field and text keeps its form.
func (o *output) WarnFunc() func(string) {
	return func(msg string) {
		if file, rest, ok := strings.Cut(msg, ": warning: "); ok {
			o.FileWarn(file, rest)
			return
		}
		o.Warn(strings.TrimPrefix(msg, "warning: "))
	}
}

// Info reports what a run did (a file applied): the callers decide when
// it is worth a line; --quiet silences it.
func (o *output) Info(msg string, attrs ...any) {
	switch {
	case o.quiet:
	case o.json != nil:
		o.json.Info(msg, attrs...)
	default:
		o.line("tributary: " + msg)
	}
}

// Detail writes text lines that belong to the last Info line (a table
// per line with -v); JSON logs carry them as that record's fields instead.
func (o *output) Detail(format string, args ...any) {
	if o.quiet || o.json != nil {
		return
	}
	o.line(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

func (o *output) line(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintln(o.w, s)
}

// ReportError prints the error a command returned, once, as the command
// line asked: a text line or one JSON object with the exit code; nothing
// when the command has said all there is (exitcode.WasTold). main calls it
// after working out the code; interrupted runs say that nothing was
// committed.
func ReportError(root *cobra.Command, err error, code int) {
	if err == nil {
		return
	}
	if code != exitcode.Interrupted && exitcode.WasTold(err) {
		return // the lines above said it all
	}
	out := outputOf(root)
	msg := err.Error()
	if code == exitcode.Interrupted {
		msg = "interrupted; nothing was committed"
	}
	out.Error(msg, "exit_code", code)
}
