package database

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Option is one name=value line of a MySQL option file, with where it was
// written, so a mistake can be reported by file and line.
type Option struct {
	Group string // the [group] it is in
	Name  string // with "_" written as "-", as the mysql client reads it
	Value string // unquoted; "" for a bare name
	Bare  bool   // written without "=value" (a boolean switched on)
	File  string
	Line  int
}

// Where names the option's file and line for messages.
func (o Option) Where() string { return fmt.Sprintf("option file %s line %d", o.File, o.Line) }

// OptionFiles are MySQL option files read in order, as the mysql client
// reads them: [group] headers, name=value lines, # and ; comments, quoted
// values, and the !include FILE and !includedir DIR directives (a
// directory's *.cnf files in name order; a relative path is taken from
// the including file's directory). A later value of the same name wins.
type OptionFiles struct {
	options []Option
	headers []Option // one per [group] line: Group, File, Line
}

// maxIncludeDepth stops an include loop that the cycle check cannot see
// (two names for one file).
const maxIncludeDepth = 10

// ReadOptionFiles reads the files in order; empty paths are skipped. Each
// file, included ones too, must not be readable by every user, because
// option files hold passwords (the mysql client refuses them likewise).
func ReadOptionFiles(paths ...string) (*OptionFiles, error) {
	f := &OptionFiles{}
	for _, path := range paths {
		if path == "" {
			continue
		}
		if err := f.read(path, nil); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Group returns the options of a group in the order they were read.
func (f *OptionFiles) Group(name string) []Option {
	var out []Option
	for _, o := range f.options {
		if o.Group == name {
			out = append(out, o)
		}
	}
	return out
}

// Headers lists every [group] line read, in reading order: Group, File
// and Line are set.
func (f *OptionFiles) Headers() []Option {
	return f.headers
}

func (f *OptionFiles) read(path string, including []string) error {
	if len(including) >= maxIncludeDepth {
		return fmt.Errorf("option file %s: included more than %d levels deep", path, maxIncludeDepth)
	}
	for _, p := range including {
		if p == path {
			return fmt.Errorf("option file %s includes itself (through %s)", path, strings.Join(including, " -> "))
		}
	}
	if err := checkOptionFileMode(path); err != nil {
		return err
	}
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("option file: %w", err)
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	group, lineNo := "", 0
	for scanner.Scan() {
		lineNo++
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '!':
			if err := f.directive(path, lineNo, line, append(including, path)); err != nil {
				return err
			}
		case line[0] == '[':
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return fmt.Errorf("option file %s line %d: a group header needs its closing ]", path, lineNo)
			}
			group = strings.TrimSpace(line[1:end])
			f.headers = append(f.headers, Option{Group: group, File: path, Line: lineNo})
		case group == "":
			return fmt.Errorf("option file %s line %d: an option before any [group] header", path, lineNo)
		default:
			o, err := parseOption(line)
			if err != nil {
				return fmt.Errorf("option file %s line %d: %w", path, lineNo, err)
			}
			o.Group, o.File, o.Line = group, path, lineNo
			f.options = append(f.options, o)
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("option file %s: %w", path, err)
	}
	return nil
}

// directive follows !include FILE and !includedir DIR.
func (f *OptionFiles) directive(path string, lineNo int, line string, including []string) error {
	word, arg, _ := strings.Cut(line[1:], " ")
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return fmt.Errorf("option file %s line %d: !%s needs a path", path, lineNo, word)
	}
	if !filepath.IsAbs(arg) {
		arg = filepath.Join(filepath.Dir(path), arg)
	}
	switch word {
	case "include":
		return f.read(arg, including)
	case "includedir":
		entries, err := os.ReadDir(arg)
		if err != nil {
			return fmt.Errorf("option file %s line %d: !includedir: %w", path, lineNo, err)
		}
		for _, e := range entries { // ReadDir sorts by name
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".cnf") {
				if err := f.read(filepath.Join(arg, e.Name()), including); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("option file %s line %d: unknown directive !%s (!include FILE or !includedir DIR)", path, lineNo, word)
}

// checkOptionFileMode refuses a file every user may read: it may hold a
// password.
func checkOptionFileMode(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("option file: %w", err)
	}
	if info.Mode().Perm()&0o004 != 0 {
		return fmt.Errorf("option file %s is readable by every user (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	return nil
}

// parseOption reads "name = value", "name" alone, quotes and a trailing
// comment.
func parseOption(line string) (Option, error) {
	name, value, hasValue := strings.Cut(line, "=")
	o := Option{Name: strings.ReplaceAll(strings.TrimSpace(name), "_", "-"), Bare: !hasValue}
	if o.Name == "" {
		return o, fmt.Errorf("an option without a name")
	}
	if !hasValue {
		return o, nil
	}
	v, err := unquoteOption(strings.TrimSpace(value))
	if err != nil {
		return o, err
	}
	o.Value = v
	return o, nil
}

// unquoteOption strips matching quotes and a trailing comment, as my.cnf allows.
func unquoteOption(value string) (string, error) {
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') {
		end := strings.IndexByte(value[1:], value[0])
		if end < 0 {
			return "", fmt.Errorf("unterminated quote")
		}
		return value[1 : end+1], nil
	}
	if i := strings.Index(value, " #"); i >= 0 {
		value = strings.TrimSpace(value[:i])
	}
	return value, nil
}

// clientValues returns the [client] options, the later of two equal names
// winning, or nil when the files have no [client] section.
func (f *OptionFiles) clientValues() map[string]Option {
	opts := f.Group("client")
	if len(opts) == 0 {
		return nil
	}
	values := map[string]Option{}
	for _, o := range opts {
		values[o.Name] = o
	}
	return values
}

// applyClientOptions sets user, password, host, port, socket and database
// from [client], as the mysql client reads them; other names (the mysql
// client's own, such as default-character-set) are left alone.
func applyClientOptions(values map[string]Option, cfg *mysql.Config) error {
	host, port, socket := "127.0.0.1", "3306", ""
	for key, o := range values {
		value := o.Value
		switch key {
		case "user":
			cfg.User = value
		case "password":
			cfg.Passwd = value
		case "host":
			host = value
		case "port":
			if _, err := strconv.Atoi(value); err != nil {
				return fmt.Errorf("%s: port %q is not a number", o.Where(), value)
			}
			port = value
		case "socket":
			socket = value
		case "database":
			cfg.DBName = value
		}
	}
	switch {
	case socket != "" && (values["host"].Value == "" || values["host"].Value == "localhost"):
		cfg.Net, cfg.Addr = "unix", socket
	case host == "localhost" && values["port"].Value == "":
		// The mysql client reaches "localhost" through its default socket.
		cfg.Net, cfg.Addr = "unix", "/run/mysqld/mysqld.sock"
	default:
		cfg.Net, cfg.Addr = "tcp", host+":"+port
	}
	return nil
}
