package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"tributary/importer"
	"tributary/internal/exitcode"
	"tributary/syncfile"
)

// checkLabel starts every line of status --check, as monitoring plugins
// (Nagios, Icinga, Sensu) expect: "TRIBUTARY OK - ..." or
// "TRIBUTARY CRITICAL - ...".
const checkLabel = "TRIBUTARY"

// statusProblems lists what is wrong with the master's children: a prefix
// whose newest data is older than maxLag, a prefix with nothing applied,
// no prefix at all, and, with an inbox, each prefix's rejected files
// waiting in inbox/failed. One sentence per problem, sorted by prefix.
func statusProblems(doc *statusDoc, maxLag time.Duration, inbox string) ([]string, error) {
	var problems []string
	if len(doc.Prefixes) == 0 {
		problems = append(problems, fmt.Sprintf("no child has been imported into %s yet", doc.Database))
	}
	now, err := time.Parse(time.RFC3339Nano, doc.Now)
	if err != nil {
		return nil, fmt.Errorf("the master's clock: %w", err)
	}
	for _, p := range doc.Prefixes {
		if p.LastSequence == nil {
			problems = append(problems, p.Prefix+": no file applied yet")
			continue
		}
		lag := time.Duration(*p.LagSeconds * float64(time.Second))
		if lag <= maxLag {
			continue
		}
		applied, err := time.Parse(time.RFC3339Nano, *p.AppliedAt)
		if err != nil {
			return nil, fmt.Errorf("prefix %s: applied time: %w", p.Prefix, err)
		}
		problems = append(problems, fmt.Sprintf("%s: newest data %s old (more than --max-lag %s); last file %s applied %s ago",
			p.Prefix, roughly(lag), roughly(maxLag), *p.FileName, roughly(now.Sub(applied))))
	}
	if inbox != "" {
		rejected, err := rejectedFiles(inbox)
		if err != nil {
			return nil, err
		}
		problems = append(problems, rejected...)
	}
	return problems, nil
}

// numberedSuffix is what the inbox adds to a name already taken (NAME.2).
var numberedSuffix = regexp.MustCompile(`\.[0-9]+$`)

// rejectedFiles says, per prefix, how many rejected files wait in
// inbox/failed for the admin. Their .why files say what to do.
func rejectedFiles(inbox string) ([]string, error) {
	dir := filepath.Join(inbox, importer.FailedDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing was ever rejected
	}
	if err != nil {
		return nil, fmt.Errorf("--inbox: %w", err)
	}
	byPrefix := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".why") {
			continue
		}
		prefix := "(unknown prefix)"
		if info, ok := syncfile.ParseFileName(numberedSuffix.ReplaceAllString(name, "")); ok {
			prefix = info.Prefix
		}
		byPrefix[prefix] = append(byPrefix[prefix], name)
	}
	var problems []string
	for _, prefix := range sortedKeys(byPrefix) {
		names := byPrefix[prefix]
		problems = append(problems, fmt.Sprintf("%s: %s in %s (%s; its .why says what to do)",
			prefix, plural(len(names), "rejected file"), dir, strings.Join(names, ", ")))
	}
	return problems, nil
}

// printCheck writes the monitoring lines: one OK line, or one CRITICAL
// line per problem, and returns the error that makes the exit code 1.
func printCheck(w io.Writer, doc *statusDoc, problems []string, maxLag time.Duration) error {
	if len(problems) == 0 {
		var worst float64
		for _, p := range doc.Prefixes {
			worst = max(worst, *p.LagSeconds)
		}
		fmt.Fprintf(w, "%s OK - %s, newest data at most %s old (--max-lag %s)\n", checkLabel,
			prefixCount(len(doc.Prefixes)), roughly(time.Duration(worst*float64(time.Second))), roughly(maxLag))
		return nil
	}
	for _, p := range problems {
		fmt.Fprintf(w, "%s CRITICAL - %s\n", checkLabel, p)
	}
	return checkFailed(len(problems))
}

func prefixCount(n int) string {
	if n == 1 {
		return "1 prefix"
	}
	return fmt.Sprintf("%d prefixes", n)
}

func checkFailed(problems int) error {
	return exitcode.Errorf(exitcode.Failure, "status --check: %s", plural(problems, "problem"))
}

// roughly prints a duration as a person reads it: 45s, 12m, 3h12m, 2d4h.
func roughly(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
