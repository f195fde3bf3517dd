// Package metrics writes Prometheus text-format files for node_exporter's
// textfile collector. A file is rewritten atomically after every run and
// keeps the samples of earlier runs that this run did not replace, so the
// last success of a prefix that failed this time is still there to alert on.
package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Set is the content of one metrics file.
type Set struct {
	samples map[string]sample // by name{labels}
	help    map[string]string
	kind    map[string]string
}

type sample struct {
	name   string
	labels string // rendered: prefix="nyc",table="civicrm_contact"
	value  float64
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{samples: map[string]sample{}, help: map[string]string{}, kind: map[string]string{}}
}

// Load reads a file written by Write. A missing file is an empty set; lines
// it does not understand are dropped rather than failing the run.
func Load(path string) (*Set, error) {
	s := NewSet()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metrics file: %w", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		s.parseLine(scanner.Text())
	}
	return s, scanner.Err()
}

func (s *Set) parseLine(line string) {
	switch {
	case strings.HasPrefix(line, "# HELP "):
		name, text, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
		s.help[name] = text
	case strings.HasPrefix(line, "# TYPE "):
		name, kind, _ := strings.Cut(strings.TrimPrefix(line, "# TYPE "), " ")
		s.kind[name] = kind
	case line == "" || strings.HasPrefix(line, "#"):
	default:
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return
		}
		value, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return
		}
		series := line[:i]
		name, labels := series, ""
		if j := strings.IndexByte(series, '{'); j >= 0 && strings.HasSuffix(series, "}") {
			name, labels = series[:j], series[j+1:len(series)-1]
		}
		s.samples[series] = sample{name: name, labels: labels, value: value}
	}
}

// Gauge sets a gauge; labels are name, value pairs.
func (s *Set) Gauge(name, help string, value float64, labels ...string) {
	s.set(name, help, "gauge", value, labels)
}

// AddCounter adds delta to a counter, starting from what the file held.
func (s *Set) AddCounter(name, help string, delta float64, labels ...string) {
	key := name + "{" + renderLabels(labels) + "}"
	s.set(name, help, "counter", s.samples[key].value+delta, labels)
}

// Value returns a sample's value and whether it is set.
func (s *Set) Value(name string, labels ...string) (float64, bool) {
	v, ok := s.samples[name+"{"+renderLabels(labels)+"}"]
	return v.value, ok
}

func (s *Set) set(name, help, kind string, value float64, labels []string) {
	rendered := renderLabels(labels)
	s.samples[name+"{"+rendered+"}"] = sample{name: name, labels: rendered, value: value}
	s.help[name] = help
	s.kind[name] = kind
}

func renderLabels(pairs []string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, pairs[i]+"="+strconv.Quote(pairs[i+1]))
	}
	return strings.Join(parts, ",")
}

// Write renders the set, sorted, into path through a temporary file and a
// rename, so the collector never reads half a file.
func (s *Set) Write(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	s.render(w)
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics file: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	return nil
}

func (s *Set) render(w *bufio.Writer) {
	byName := map[string][]sample{}
	for _, smp := range s.samples {
		byName[smp.name] = append(byName[smp.name], smp)
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if help := s.help[name]; help != "" {
			fmt.Fprintf(w, "# HELP %s %s\n", name, help)
		}
		if kind := s.kind[name]; kind != "" {
			fmt.Fprintf(w, "# TYPE %s %s\n", name, kind)
		}
		list := byName[name]
		sort.Slice(list, func(i, j int) bool { return list[i].labels < list[j].labels })
		for _, smp := range list {
			fmt.Fprintf(w, "%s{%s} %s\n", name, smp.labels, formatValue(smp.value))
		}
	}
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
