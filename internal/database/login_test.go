package database

import (
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestLoginRefused: the message names the account as the server saw it,
// hides the password only inside the server's text, and explains the one
// mismatch the account alone does not show.
func TestLoginRefused(t *testing.T) {
	tcp := &mysql.Config{User: "u", Net: "tcp", Addr: "127.0.0.1:3306"}
	tests := []struct {
		name, server, password string
		want                   string
		wantHint               bool
	}{
		{
			name:   "password is one of our words",
			server: "Access denied for user 'u'@'db.example' (using password: YES)", password: "user",
			want: "login refused for 'u'@'db.example' (wrong user or password, or no such account for that host)",
		},
		{
			// The server matched accounts against 127.0.0.1: a 'localhost'
			// account, as a socket connection finds it, does not match.
			name:   "TCP from this machine",
			server: "Access denied for user 'u'@'127.0.0.1' (using password: YES)", password: "pw",
			want: "login refused for 'u'@'127.0.0.1' (wrong user or password, or no such account for that host: an account made for 'localhost'", wantHint: true,
		},
		{
			name:   "password equal to the user name is hidden in the server's text",
			server: "Access denied for user 'sync'@'db.example' (using password: YES)", password: "sync",
			want: "login refused for '***'@'db.example' (wrong user or password,",
		},
		{
			name:   "no account in the server's text",
			server: "Access denied", password: "pw",
			want: "login refused (wrong user or password)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := *tcp
			cfg.Passwd = tt.password
			got := cleanDriverError(&mysql.MySQLError{Number: 1045, Message: tt.server}, &cfg)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s...", got, tt.want)
			}
			if hint := strings.Contains(got, "socket="); hint != tt.wantHint {
				t.Errorf("socket hint %t, want %t: %s", hint, tt.wantHint, got)
			}
		})
	}
}

// TestDriverTextScrubbed: the server's or driver's own text loses the
// password; ours keeps its words.
func TestDriverTextScrubbed(t *testing.T) {
	cfg := &mysql.Config{User: "u", Passwd: "hunter2", DBName: "database"}
	got := cleanDriverError(&mysql.MySQLError{Number: 1227, Message: "denied to hunter2"}, cfg)
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "denied to ***") {
		t.Errorf("server text not scrubbed: %s", got)
	}
	cfg.Passwd = "database"
	got = cleanDriverError(&mysql.MySQLError{Number: 1049, Message: "Unknown database 'database'"}, cfg)
	if got != `database "database" does not exist` {
		t.Errorf("our words changed: %s", got)
	}
}
