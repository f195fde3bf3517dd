// Package schema loads sync maps (DESIGN.md section 3), resolves them
// against a live database and checks every rule the sync relies on. The
// resolved Schema is what export and import work from: tables in apply
// order, their keys, synced columns and references.
package schema

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed presets/*.yaml
var presets embed.FS

// Map is a sync map as written by the user: which tables to sync, in which
// role, and what to add to or take from the database's own foreign keys.
type Map struct {
	Shared  []string             `yaml:"shared"`
	Tables  map[string]TableSpec `yaml:"tables"`
	Release *ReleaseSpec         `yaml:"release"`

	// Source names where the map came from, for messages.
	Source string `yaml:"-"`
	// preset: a built-in map, which fits every release of its application
	// as installed. An excluded column may be missing, and a table whose
	// track column is missing or a DATE gets another role (presetRole).
	// A user's map stays strict: a typo in exclude must not send a column.
	preset bool
}

// ReleaseSpec says how check recognises which release of an application a
// database holds: the version the application records, and columns that
// arrived in known releases (they tell releases apart when no version can
// be read, and show an upgrade that did not finish).
type ReleaseSpec struct {
	Application string `yaml:"application"`
	// Version is TABLE.COLUMN; its first row (by primary key) holds the
	// release, as "5.47.3".
	Version string `yaml:"version"`
	// First is the first release the map fits.
	First   string        `yaml:"first"`
	Columns []ReleaseMark `yaml:"columns"`
}

// ReleaseMark is a column that arrived in release Since (with data type
// Type, when given: a column may change type in a release).
type ReleaseMark struct {
	Since  string `yaml:"since"`
	Column string `yaml:"column"` // TABLE.COLUMN
	Type   string `yaml:"type"`
}

// TableSpec is one table's entry in a map. Exactly one of Track, Owner and
// Snapshot is set.
type TableSpec struct {
	Track      string             `yaml:"track"`
	Owner      string             `yaml:"owner"`
	Snapshot   bool               `yaml:"snapshot"`
	Exclude    []string           `yaml:"exclude"`
	References map[string]RefSpec `yaml:"references"`
	// Unique says what the master does when a child's row brings a value
	// that another row of the master already holds in a unique key: keyed
	// by the key's column, or by the unique index's name for a key of
	// several columns; the value is PolicyMatch or PolicyRename.
	Unique map[string]string `yaml:"unique"`
	// Detect names extra change detection: "checksum" keeps digests of
	// the table's rows so that changes that move no stamp are sent too
	// (DESIGN.md section 3, "Changes that move no stamp").
	Detect string `yaml:"detect"`
}

// RefSpec adds a reference the database does not declare, or overrides a
// declared one: Table for a plain reference, TableFrom for a polymorphic one
// whose discriminator column holds the target table's name.
type RefSpec struct {
	Table     string `yaml:"table"`
	TableFrom string `yaml:"table_from"`
}

// presetAliases are older names of presets, kept so that cron lines that
// use them go on working.
var presetAliases = map[string]string{"civicrm-4.6": "civicrm"}

// PresetNames lists the built-in maps.
func PresetNames() []string {
	entries, _ := presets.ReadDir("presets")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadMap reads a map from a file, or the built-in preset of that name:
// a name without "/" and without a .yaml/.yml ending is a preset.
func LoadMap(nameOrPath string) (*Map, error) {
	if isPresetName(nameOrPath) {
		name := nameOrPath
		if alias, ok := presetAliases[name]; ok {
			name = alias
		}
		data, err := presets.ReadFile(path.Join("presets", name+".yaml"))
		if err != nil {
			return nil, fmt.Errorf("map %q: no such preset (presets: %s; a map file needs a .yaml ending or a path)", nameOrPath, strings.Join(PresetNames(), ", "))
		}
		m, err := ParseMap(data, "preset "+name)
		if err != nil {
			return nil, err
		}
		m.preset = true
		return m, nil
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	return ParseMap(data, nameOrPath)
}

func isPresetName(name string) bool {
	return !strings.Contains(name, "/") && !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")
}

// ParseMap decodes a map strictly: an unknown key or a value of the wrong
// type is an error naming the line, so a typo never silently changes what
// is synced.
func ParseMap(data []byte, source string) (*Map, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Map
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("map %s: empty", source)
		}
		return nil, fmt.Errorf("map %s: %s", source, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(m.Tables) == 0 {
		return nil, fmt.Errorf("map %s: no tables listed under \"tables:\"", source)
	}
	if err := m.checkPolicies(); err != nil {
		return nil, fmt.Errorf("map %s: %w", source, err)
	}
	if err := m.Release.check(); err != nil {
		return nil, fmt.Errorf("map %s: release: %w", source, err)
	}
	m.Source = source
	return &m, nil
}
