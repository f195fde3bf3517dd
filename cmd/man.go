package cmd

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"tributary/internal/exitcode"
	"tributary/internal/version"
)

func newManCommand(build version.Info) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write the manual pages of every command into a directory",
		Long: `man writes one manual page per command (tributary.1, tributary-export.1,
...) into DIR, made from the same text as --help. The Debian package ships
them; from a source build, install them with

  tributary man /usr/local/share/man/man1

The pages are dated with the commit the binary was built from, so the same
build always writes the same pages.

` + exitCodesHelp,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			dir := args[0]
			if info, err := os.Stat(dir); err != nil || !info.IsDir() {
				return exitcode.Errorf(exitcode.Usage, "man %s: not an existing directory", dir)
			}
			date := build.CommitTime
			if date.IsZero() {
				date = time.Now().UTC()
			}
			header := &doc.GenManHeader{
				Title:   "TRIBUTARY",
				Section: "1",
				Source:  "tributary " + build.Version,
				Manual:  "tributary manual",
				Date:    &date,
			}
			root := c.Root()
			root.DisableAutoGenTag = true
			asMarkdown(root)
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man %s: %w", dir, err)
			}
			return nil
		},
	}
}

// asMarkdown rewrites the help of every command for cobra's man page
// writer, which reads it as Markdown: our help is plain text, where a cron
// line's "*" must not turn into emphasis nor "[client] (...)" into a link,
// and an indented example must keep its lines. The command tree is only
// used to write the pages afterwards.
func asMarkdown(c *cobra.Command) {
	c.Long = helpMarkdown(c.Long)
	c.Short = escapeMarkdown(c.Short)
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { f.Usage = escapeMarkdown(f.Usage) })
	c.PersistentFlags().VisitAll(func(f *pflag.Flag) { f.Usage = escapeMarkdown(f.Usage) })
	for _, sub := range c.Commands() {
		asMarkdown(sub)
	}
}

// helpMarkdown turns plain help text into Markdown that renders as the
// same text: lines indented by two spaces or more become a code block
// (kept as they are), everything else is escaped.
func helpMarkdown(text string) string {
	var b strings.Builder
	lines := strings.Split(text, "\n")
	inBlock := false
	for i, line := range lines {
		indented := strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != ""
		switch {
		case indented:
			if !inBlock && i > 0 && strings.TrimSpace(lines[i-1]) != "" {
				b.WriteString("\n") // a code block needs a blank line before it
			}
			inBlock = true
			b.WriteString("    " + line + "\n")
		default:
			if inBlock && strings.TrimSpace(line) != "" {
				b.WriteString("\n")
			}
			inBlock = false
			b.WriteString(escapeMarkdown(line) + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// escapeMarkdown backslash-escapes the characters that would start
// emphasis, a link, HTML or inline code.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
