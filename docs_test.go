package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markdownLink matches [text](target) links; images and absolute URLs are
// told apart by the target.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinksResolve: README.md and docs/*.md link to each other by file
// and heading; a heading renamed or a section moved must not leave an admin
// at a dead link.
func TestDocsLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	if len(pages) < 2 {
		t.Fatalf("no docs/*.md beside README.md")
	}
	anchors := map[string]map[string]bool{}
	for _, page := range pages {
		anchors[filepath.Clean(page)] = headingAnchors(t, page)
	}
	linked := map[string]bool{}
	for _, page := range pages {
		for _, target := range pageLinks(t, page) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := filepath.Clean(page)
			if file != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(page), file))
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s links to %s: no such file", page, target)
				continue
			}
			linked[dest] = true
			if anchor != "" && !anchors[dest][anchor] {
				t.Errorf("%s links to %s: %s has no heading #%s", page, target, dest, anchor)
			}
		}
	}
	for _, page := range pages[1:] {
		if !linked[filepath.Clean(page)] {
			t.Errorf("%s is not linked from any page: an admin cannot find it", page)
		}
	}
}

// pageLinks returns the link targets of a markdown page outside code blocks.
func pageLinks(t *testing.T, page string) []string {
	var targets []string
	for _, line := range proseLines(t, page) {
		for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
	}
	return targets
}

// headingAnchors returns the anchors a markdown renderer gives the page's
// headings: lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(t *testing.T, page string) map[string]bool {
	anchors := map[string]bool{}
	for _, line := range proseLines(t, page) {
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if level == 0 || !strings.HasPrefix(line[level:], " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(line[level:])) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
				b.WriteRune(r)
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

// proseLines returns a page's lines that are not inside fenced code blocks,
// whose "# comment" lines are not headings.
func proseLines(t *testing.T, page string) []string {
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var prose []string
	inFence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if !inFence {
			prose = append(prose, line)
		}
	}
	return prose
}
