// Package syncfile writes and reads tributary sync files (DESIGN.md section
// 4): a JSON header line, record lines in apply order and a trailer line
// with the record count and the SHA-256 (and optional HMAC) of every byte
// before it. Files are written under a temporary name and renamed into place
// only when complete; readers verify everything before reporting success.
package syncfile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tributary/childdb"
)

// Format and Version identify the file format in every header.
const (
	Format  = "tributary"
	Version = 1
)

// File modes: full files carry every row, incremental files one window.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// Record operations.
const (
	OpUpsert = "upsert" // one row, keyed by its child ID (or its composite key)
	OpLive   = "live"   // ranges of a track table's live child IDs
)

// Header is the first line of a sync file.
type Header struct {
	Format   string               `json:"format"`
	Version  int                  `json:"version"`
	Prefix   string               `json:"prefix"`
	Stream   string               `json:"stream"`
	Sequence uint64               `json:"sequence"`
	Mode     string               `json:"mode"`
	Since    string               `json:"since,omitempty"` // RFC 3339 UTC; empty in a full file
	Until    string               `json:"until"`           // RFC 3339 UTC, exclusive
	Created  string               `json:"created"`
	Source   Source               `json:"source"`
	Tables   map[string]TableInfo `json:"tables"`
}

// Source describes the child that wrote the file. Host and Database
// identify the database the rows come from (see Origin); the rest describes
// it and may change without the child becoming another one.
type Source struct {
	Database    string `json:"database"`
	Host        string `json:"host,omitempty"` // the server's @@hostname:@@port
	Server      string `json:"server"`         // the server's VERSION()
	Fingerprint string `json:"fingerprint"`
	Tool        string `json:"tool"` // tributary's version
}

// Origin returns the identity of the database the source names.
func (s Source) Origin() childdb.Origin { return childdb.Origin{Host: s.Host, Database: s.Database} }

// TableInfo tells the reader what to expect of one table's records.
type TableInfo struct {
	Order   int      `json:"order"` // apply order, parents first
	Role    string   `json:"role"`
	Key     []string `json:"key"`
	Columns []string `json:"columns"`          // every column a row may carry, in table order
	Binary  []string `json:"binary,omitempty"` // columns whose values are base64
}

// Trailer is the last line of a sync file.
type Trailer struct {
	End     bool   `json:"end"`
	Records int64  `json:"records"`
	SHA256  string `json:"sha256"`
	HMAC    string `json:"hmac,omitempty"`
}

// FileName is the contract name of a sync file:
// <prefix>-<sequence, 10 digits>-<full|incr>.jsonl[.gz].
func FileName(prefix string, sequence uint64, mode string, gzip bool) string {
	kind := "incr"
	if mode == ModeFull {
		kind = "full"
	}
	name := fmt.Sprintf("%s-%010d-%s.jsonl", prefix, sequence, kind)
	if gzip {
		name += ".gz"
	}
	return name
}

var fileNamePattern = regexp.MustCompile(`^([a-z][a-z0-9_]{0,31})-([0-9]{10,20})-(full|incr)\.jsonl(\.gz)?$`)

// NameInfo is what a sync file's name says about it.
type NameInfo struct {
	Prefix   string
	Sequence uint64
	Mode     string
	Gzip     bool
}

// ParseFileName reads a contract file name; ok is false for any other name
// (temporary files, dotfiles, stray files).
func ParseFileName(name string) (info NameInfo, ok bool) {
	m := fileNamePattern.FindStringSubmatch(name)
	if m == nil {
		return NameInfo{}, false
	}
	seq, err := strconv.ParseUint(m[2], 10, 64)
	if err != nil {
		return NameInfo{}, false
	}
	mode := ModeIncremental
	if m[3] == "full" {
		mode = ModeFull
	}
	return NameInfo{Prefix: m[1], Sequence: seq, Mode: mode, Gzip: m[4] != ""}, true
}

// TempName is the name a file is written under until it is complete; rsync
// and scp pick-up patterns skip dotfiles and *.tmp.
func TempName(name string) string { return "." + strings.TrimPrefix(name, ".") + ".tmp" }
