package schema

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// PresetText returns a built-in map as it is written, comments included:
// the start of a custom map.
func PresetText(name string) ([]byte, error) {
	if alias, ok := presetAliases[name]; ok {
		name = alias
	}
	data, err := presets.ReadFile(path.Join("presets", name+".yaml"))
	if err != nil || !isPresetName(name) {
		return nil, fmt.Errorf("map %q: no such preset (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return data, nil
}

// MapYAML writes the schema back as a sync map, as it was resolved against
// one database: the shared tables, then every synced table in apply order
// with its role, excluded columns and the references the map had to name
// (polymorphic ones, and those the database declares no foreign key for).
// ParseMap reads it back into a map that resolves to the same schema.
func MapYAML(s *Schema) ([]byte, error) {
	root := yamlMap()
	root.HeadComment = fmt.Sprintf("Sync map as resolved against database %s\n(fingerprint %s).", s.Database, s.Fingerprint)
	if len(s.Shared) > 0 {
		shared := &yaml.Node{Kind: yaml.SequenceNode}
		for _, name := range s.Shared {
			shared.Content = append(shared.Content, scalar(name))
		}
		addPair(root, "shared", shared)
	}
	tables := yamlMap()
	for _, t := range s.Tables {
		key := scalar(t.Name)
		key.HeadComment = fmt.Sprintf("%d. %s", t.Order+1, keyComment(t))
		tables.Content = append(tables.Content, key, tableNode(t))
	}
	addPair(root, "tables", tables)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("write the map: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write the map: %w", err)
	}
	return buf.Bytes(), nil
}

func tableNode(t *Table) *yaml.Node {
	n := yamlMap()
	switch t.Role {
	case RoleTrack:
		addPair(n, "track", scalar(t.Track))
	case RoleOwner:
		addPair(n, "owner", scalar(t.Owner))
	case RoleSnapshot:
		addPair(n, "snapshot", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if t.Checksum {
		addPair(n, "detect", scalar(DetectChecksum))
	}
	if len(t.Exclude) > 0 {
		ex := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, c := range t.Exclude {
			ex.Content = append(ex.Content, scalar(c))
		}
		addPair(n, "exclude", ex)
	}
	refs := yamlMap()
	for _, r := range t.Refs {
		if r.Declared && !r.Polymorphic() {
			continue // the database's own foreign key says it
		}
		spec := yamlMap()
		spec.Style = yaml.FlowStyle
		if r.Polymorphic() {
			addPair(spec, "table_from", scalar(r.TableFrom))
		} else {
			addPair(spec, "table", scalar(r.Table))
		}
		refs.Content = append(refs.Content, scalar(r.Column), spec)
	}
	if len(refs.Content) > 0 {
		addPair(n, "references", refs)
	}
	if len(t.Policies) > 0 {
		u := yamlMap()
		u.Style = yaml.FlowStyle
		for _, p := range t.Policies {
			name := p.Key.Name
			if len(p.Key.Columns) == 1 {
				name = p.Key.Columns[0]
			}
			addPair(u, name, scalar(p.Policy))
		}
		addPair(n, "unique", u)
	}
	return n
}

// keyComment says what the key is and what import does with it.
func keyComment(t *Table) string {
	if t.Mapped {
		return "key " + t.Key[0] + ", mapped to master IDs"
	}
	return "key (" + strings.Join(t.Key, ", ") + "), rewritten through the mapping"
}

func yamlMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func addPair(m *yaml.Node, key string, value *yaml.Node) {
	m.Content = append(m.Content, scalar(key), value)
}
