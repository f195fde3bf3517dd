package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tributary/internal/database"
	"tributary/internal/exitcode"
)

// fromOptionFile is the annotation on a flag whose value came from an
// option file: it says where, and it tells a DSN from a file (private)
// from one on the command line (visible in ps).
const fromOptionFile = "tributary-option-file"

// optionFileOptions are --defaults-file and --defaults-extra-file: MySQL
// option files whose [client] section holds the connection and whose
// [tributary] and [tributary-COMMAND] groups hold flags, written
// name=value with the flag's long name, as mysqldump reads [mysqldump].
type optionFileOptions struct {
	defaultsFile string
	extraFile    string
}

func (o *optionFileOptions) AddFlags(flags *pflag.FlagSet, command string, withClient bool) {
	what := "[tributary] and [tributary-" + command + "] for flags (name=value, long flag names; the command line wins)"
	if withClient {
		what = "[client] for the connection (user, password, host, port, socket, database), " + what
	}
	flags.StringVar(&o.defaultsFile, "defaults-file", "", "MySQL option file: "+what+"; must not be readable by others")
	flags.StringVar(&o.extraFile, "defaults-extra-file", "", "a second option file, read after --defaults-file (its values win)")
}

// optionFileGroupPrefix starts the group of each command: [tributary-export].
const optionFileGroupPrefix = "tributary-"

// notFromOptionFiles are flags an option file cannot set.
var notFromOptionFiles = map[string]bool{"defaults-file": true, "defaults-extra-file": true, "help": true, "version": true}

// applyOptionFiles sets the flags of c that the command line did not set
// from the [tributary] group and then c's own group, [tributary-NAME], of
// the option files named by --defaults-file and --defaults-extra-file;
// c's own group wins, and within a group the later line. A name that is no
// flag of c is an error naming file, line and name; in [tributary], which
// every command reads, a flag of another command is left alone. A
// "loose-" prefix makes an unknown name harmless, as in the mysql client.
func applyOptionFiles(c *cobra.Command) error {
	flags := c.Flags()
	if flags.Lookup("defaults-file") == nil {
		return nil // a command that takes no option files
	}
	defaultsFile, _ := flags.GetString("defaults-file")
	extraFile, _ := flags.GetString("defaults-extra-file")
	if defaultsFile == "" && extraFile == "" {
		return nil
	}
	files, err := database.ReadOptionFiles(defaultsFile, extraFile)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	if err := checkGroupNames(c.Root(), files); err != nil {
		return err
	}
	known := allFlagNames(c.Root())
	values := map[string]database.Option{}
	for _, group := range []string{"tributary", optionFileGroupPrefix + c.Name()} {
		for _, o := range files.Group(group) {
			name, loose := strings.CutPrefix(o.Name, "loose-")
			f := flags.Lookup(name)
			switch {
			case notFromOptionFiles[name]:
				return exitcode.Errorf(exitcode.Usage, "%s: %s cannot be set in an option file", o.Where(), name)
			case f != nil:
				values[name] = o
			case loose || (group == "tributary" && known[name]):
			default:
				return exitcode.Errorf(exitcode.Usage, "%s: [%s] has no option %q (see %s --help)", o.Where(), group, o.Name, c.CommandPath())
			}
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if flags.Changed(name) {
			continue // the command line wins
		}
		if err := setFromOptionFile(flags.Lookup(name), flags, values[name]); err != nil {
			return err
		}
	}
	return nil
}

func setFromOptionFile(f *pflag.Flag, flags *pflag.FlagSet, o database.Option) error {
	value := o.Value
	if f.Value.Type() == "bool" {
		switch strings.ToLower(value) {
		case "", "on", "yes":
			value = "true"
		case "off", "no":
			value = "false"
		}
	} else if o.Bare {
		return exitcode.Errorf(exitcode.Usage, "%s: %s needs a value (%s=...)", o.Where(), o.Name, o.Name)
	}
	if err := flags.Set(f.Name, value); err != nil {
		return exitcode.Errorf(exitcode.Usage, "%s: %s: %v", o.Where(), o.Name, err)
	}
	return flags.SetAnnotation(f.Name, fromOptionFile, []string{o.Where()})
}

// checkGroupNames refuses a [tributary-NAME] group that names no command:
// a misspelt group would otherwise be ignored without a word.
func checkGroupNames(root *cobra.Command, files *database.OptionFiles) error {
	for _, h := range files.Headers() {
		name, ok := strings.CutPrefix(h.Group, optionFileGroupPrefix)
		if !ok {
			continue
		}
		if c, _, err := root.Find([]string{name}); err != nil || c == root {
			return exitcode.Errorf(exitcode.Usage, "%s: [%s] names no tributary command (groups: [tributary], [tributary-export], [tributary-import], ...)", h.Where(), h.Group)
		}
	}
	return nil
}

// allFlagNames lists the long names of every command's flags.
func allFlagNames(root *cobra.Command) map[string]bool {
	names := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return names
}

// setOnCommandLine reports whether the flag was given on the command line
// (where ps shows it), not taken from an option file.
func setOnCommandLine(flags *pflag.FlagSet, name string) bool {
	f := flags.Lookup(name)
	if f == nil || !f.Changed {
		return false
	}
	_, fromFile := f.Annotations[fromOptionFile]
	return !fromFile
}

// optionFileHelp is the part of each command's help on option files.
func optionFileHelp(command string) string {
	return fmt.Sprintf(`Option files. --defaults-file FILE (and --defaults-extra-file FILE, read
after it) are MySQL option files, as mysqldump reads them: [client] holds
the connection (user, password, host, port, socket, database); [tributary]
and [tributary-%s] hold this command's flags as name=value with the
flag's long name (prefix=nyc, map=civicrm); !include FILE and !includedir
DIR work as in my.cnf. The command line wins over the files, and
[tributary-%s] over [tributary]. A name this command does not know is an
error naming the file and line; in [tributary] a flag of another command
is left alone. The files must not be readable by every user.`, command, command)
}
