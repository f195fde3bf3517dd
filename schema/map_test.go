package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMapStrict(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"typo in a key names its line", "tables:\n  contact:\n    trak: modified_date\n", "line 3: field trak not found"},
		{"wrong type names its line", "tables:\n  group:\n    snapshot: maybe\n", "line 3: cannot unmarshal"},
		{"unknown top-level key", "tabels:\n  contact: {snapshot: true}\n", "line 1: field tabels not found"},
		{"no tables", "shared: [a]\n", "no tables listed"},
		{"empty", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMap([]byte(tt.yaml), "m.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadMap(t *testing.T) {
	for _, name := range PresetNames() {
		if _, err := LoadMap(name); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := LoadMap("nosuchpreset"); err == nil || !strings.Contains(err.Error(), "no such preset") {
		t.Errorf("unknown preset: %v", err)
	}
	path := filepath.Join(t.TempDir(), "map.yaml")
	os.WriteFile(path, []byte("tables:\n  t: {snapshot: true}\n"), 0o600)
	m, err := LoadMap(path)
	if err != nil || m.Source != path || !m.Tables["t"].Snapshot {
		t.Errorf("LoadMap(file) = %+v, %v", m, err)
	}
}
