package database

import (
	"io"
	"log"

	"github.com/go-sql-driver/mysql"
)

// The driver logs some connection faults itself; tributary reports every
// error once, as one line, so the driver's own log lines are dropped.
func init() {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
}
