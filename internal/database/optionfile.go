package database

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// readOptionFile reads the [client] section of a MySQL option file (as the
// mysql client does) into cfg: user, password, host, port, socket, database.
// Like the mysql client, it refuses a file that other users may read, because
// it holds a password.
func readOptionFile(path string, cfg *mysql.Config) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("option file: %w", err)
	}
	if info.Mode().Perm()&0o004 != 0 {
		return fmt.Errorf("option file %s is readable by every user (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("option file: %w", err)
	}
	defer f.Close()
	values, err := parseClientSection(f, path)
	if err != nil {
		return err
	}
	return applyClientOptions(values, cfg, path)
}

// parseClientSection returns the key=value pairs of the [client] section.
func parseClientSection(f *os.File, path string) (map[string]string, error) {
	values := map[string]string{}
	inClient := false
	scanner := bufio.NewScanner(f)
	lineNo := 0
	for scanner.Scan() {
		lineNo++
		line := strings.TrimSpace(scanner.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '!' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			name := strings.TrimSpace(strings.Trim(line, "[]"))
			inClient = name == "client"
			continue
		}
		if !inClient {
			continue
		}
		key, value, _ := strings.Cut(line, "=")
		key = strings.ReplaceAll(strings.TrimSpace(key), "_", "-")
		value, err := unquoteOption(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("option file %s line %d: %w", path, lineNo, err)
		}
		values[key] = value
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("option file %s: %w", path, err)
	}
	return values, nil
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

func applyClientOptions(values map[string]string, cfg *mysql.Config, path string) error {
	host, port, socket := "127.0.0.1", "3306", ""
	for key, value := range values {
		switch key {
		case "user":
			cfg.User = value
		case "password":
			cfg.Passwd = value
		case "host":
			host = value
		case "port":
			if _, err := strconv.Atoi(value); err != nil {
				return fmt.Errorf("option file %s: port %q is not a number", path, value)
			}
			port = value
		case "socket":
			socket = value
		case "database":
			cfg.DBName = value
		}
	}
	switch {
	case socket != "" && (values["host"] == "" || values["host"] == "localhost"):
		cfg.Net, cfg.Addr = "unix", socket
	case host == "localhost" && values["port"] == "":
		// The mysql client reaches "localhost" through its default socket.
		cfg.Net, cfg.Addr = "unix", "/run/mysqld/mysqld.sock"
	default:
		cfg.Net, cfg.Addr = "tcp", host+":"+port
	}
	return nil
}
