package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteLoadCarriesEarlierRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary_import.prom")
	s := NewSet()
	s.Gauge("tributary_import_last_success_timestamp_seconds", "Unix time of the last applied file.", 1700000000, "prefix", "nyc")
	s.AddCounter("tributary_import_files_rejected_total", "Files rejected.", 1, "prefix", "sf")
	s.Gauge("tributary_import_rows", "Rows changed by the last file.", 12, "prefix", "nyc", "table", "civicrm_contact", "operation", "insert")
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}

	// The next run touches only sf: nyc's last success must survive.
	next, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	next.AddCounter("tributary_import_files_rejected_total", "Files rejected.", 2, "prefix", "sf")
	if err := next.Write(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	for _, want := range []string{
		`tributary_import_last_success_timestamp_seconds{prefix="nyc"} 1700000000`,
		`tributary_import_files_rejected_total{prefix="sf"} 3`,
		"# TYPE tributary_import_files_rejected_total counter",
		`tributary_import_rows{prefix="nyc",table="civicrm_contact",operation="insert"} 12`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics file lacks %q:\n%s", want, text)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
