package syncfile

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/tidwall/gjson"

	"tributary/childdb"
)

// Limits a reader puts on a file, so a damaged or hostile file can make it
// neither allocate nor work without bound. Each is far above anything
// export writes; a file past one is rejected (exit 3) with a message that
// names the limit.
const (
	// DefaultMaxLineBytes bounds one line (the reader holds a line at once).
	DefaultMaxLineBytes = 64 << 20
	// DefaultMaxDepth bounds the nesting of JSON values. Export writes a
	// depth of at most 4 (the header's tables); the JSON validator recurses
	// once per level, so a line of 20 MB of "[" would overflow the stack.
	DefaultMaxDepth = 32
	// DefaultMaxBytes bounds the uncompressed content of a whole file.
	DefaultMaxBytes = 256 << 30
	// DefaultMaxRecords bounds the number of record lines.
	DefaultMaxRecords = 1 << 32
	// DefaultMaxRatio bounds how many times larger than its compressed size
	// a gzip file may grow (a gzip bomb grows about 1000 times). Export's
	// files grow 5 to 20 times; the ratio is checked only past
	// DefaultRatioFloor, so small, very repetitive files always pass.
	DefaultMaxRatio = 200
	// DefaultRatioFloor is how many uncompressed bytes a gzip file may
	// reach before its ratio is checked.
	DefaultRatioFloor = 64 << 20
)

// ReaderOptions set what a reader demands of a file. Zero limits mean the
// defaults above.
type ReaderOptions struct {
	// SignKey, when set, makes a valid HMAC in the trailer mandatory.
	SignKey      []byte
	MaxLineBytes int   // 0 means DefaultMaxLineBytes
	MaxDepth     int   // 0 means DefaultMaxDepth
	MaxBytes     int64 // uncompressed bytes; 0 means DefaultMaxBytes
	MaxRecords   int64 // 0 means DefaultMaxRecords
	MaxRatio     int64 // uncompressed per compressed byte of a gzip file; 0 means DefaultMaxRatio
	RatioFloor   int64 // uncompressed bytes before MaxRatio applies; 0 means DefaultRatioFloor
}

func (o *ReaderOptions) setDefaults() {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	if o.RatioFloor <= 0 {
		o.RatioFloor = DefaultRatioFloor
	}
}

// Record is one record line. Row and the byte slices behind it are valid
// only until the next call to Next.
type Record struct {
	Line   int64
	Table  string
	Op     string
	ID     int64 // the child ID of an upsert into a mapped table
	HasID  bool
	Row    gjson.Result // the row object of an upsert
	Ranges [][2]int64   // the ranges of a live record
}

// Reader reads a sync file record by record, checking each line, and
// verifies the trailer (count, SHA-256, HMAC) when it reaches it. Only a
// Next that returns io.EOF means the whole file was good.
type Reader struct {
	path    string
	opts    ReaderOptions
	file    *os.File       // closed by Close when the reader opened it (Open)
	raw     countingReader // the file's bytes as read from disk
	read    int64          // uncompressed bytes read so far
	gz      *gzip.Reader
	br      *bufio.Reader
	sum     hash.Hash
	mac     hash.Hash
	header  Header
	columns map[string]map[string]bool
	line    int64
	records int64
	done    bool
	rec     Record
	long    []byte
	trailer Trailer
}

// Open opens a sync file (gzip or plain, told apart by its first bytes) and
// reads and checks its header.
func Open(path string, opts ReaderOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sync file: %w", err)
	}
	r, err := newReader(path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// newReader reads a sync file from src, which starts at its first byte,
// and checks its header.
func newReader(path string, src io.Reader, opts ReaderOptions) (*Reader, error) {
	opts.setDefaults()
	r := &Reader{path: path, opts: opts, sum: sha256.New()}
	r.raw.r = src
	if len(opts.SignKey) > 0 {
		r.mac = hmac.New(sha256.New, opts.SignKey)
	}
	if err := r.init(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) init() error {
	raw := bufio.NewReaderSize(&r.raw, 256<<10)
	magic, _ := raw.Peek(2)
	var src io.Reader = raw
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return reject(r.path, 0, "not a readable gzip file: %v", err)
		}
		gz.Multistream(false)
		r.gz, src = gz, gz
	}
	r.br = bufio.NewReaderSize(src, 256<<10)
	line, err := r.readLine()
	if err != nil {
		return err
	}
	return r.parseHeader(line)
}

// Header is the file's checked header.
func (r *Reader) Header() *Header { return &r.header }

// Close releases the file, when the reader opened it (Open); a reader of
// a File leaves it open.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	return r.file.Close()
}

// readLine returns the next line without its newline and feeds the line,
// newline included, to the checksum. A file that ends without a newline
// ends inside a line: it was cut short.
func (r *Reader) readLine() ([]byte, error) {
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.long)+len(chunk) > r.opts.MaxLineBytes {
			return nil, reject(r.path, r.line+1, "line longer than %d bytes", r.opts.MaxLineBytes)
		}
		if err := r.count(len(chunk)); err != nil {
			return nil, err
		}
		switch {
		case err == nil:
			r.line++
			var line []byte
			if len(r.long) > 0 {
				r.long = append(r.long, chunk...)
				line = r.long
			} else {
				line = chunk
			}
			r.sum.Write(line)
			if r.mac != nil {
				r.mac.Write(line)
			}
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.long = append(r.long, chunk...)
		case errors.Is(err, io.EOF):
			if len(r.long)+len(chunk) == 0 && r.line > 0 {
				return nil, reject(r.path, 0, "truncated: the file ends without its trailer line (was it copied while still being written?)")
			}
			return nil, reject(r.path, r.line+1, "truncated: the file ends in the middle of a line (was it copied while still being written?)")
		default:
			return nil, r.readError(err)
		}
	}
}

// readError tells a fault of the disk (exit 1: the file may be fine) from
// damaged content (exit 3): anything the decompressor itself complains of.
func (r *Reader) readError(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	return reject(r.path, r.line+1, "damaged or truncated compressed data: %v", err)
}

// count adds n uncompressed bytes to the file's total and checks the
// limits on the whole file's size.
func (r *Reader) count(n int) error {
	r.read += int64(n)
	if r.read > r.opts.MaxBytes {
		return reject(r.path, r.line+1, "file larger than %d bytes uncompressed", r.opts.MaxBytes)
	}
	if r.gz != nil && r.read > r.opts.RatioFloor && r.read/r.opts.MaxRatio > r.raw.n {
		return reject(r.path, r.line+1, "compressed data grows more than %d times (%d bytes from %d): not a file export writes (a gzip bomb?)", r.opts.MaxRatio, r.read, r.raw.n)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// validJSON checks a line's nesting depth before the JSON validator, which
// recurses once per level, sees it; then the line itself.
func (r *Reader) validJSON(line []byte, lineNo int64) error {
	if depth, ok := withinDepth(line, r.opts.MaxDepth); !ok {
		return reject(r.path, lineNo, "JSON nested deeper than %d levels (at least %d)", r.opts.MaxDepth, depth)
	}
	if !gjson.ValidBytes(line) {
		return reject(r.path, lineNo, "not valid JSON")
	}
	return nil
}

// withinDepth reports whether the brackets and braces of a JSON text,
// outside its strings, nest no deeper than limit. It does not validate:
// it only makes validation safe. On failure it returns the depth reached.
func withinDepth(line []byte, limit int) (int, bool) {
	// The common case, cheaply: too few openers to nest too deep.
	if bytes.Count(line, []byte{'['})+bytes.Count(line, []byte{'{'}) <= limit {
		return 0, true
	}
	depth := 0
	inString := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > limit {
				return depth, false
			}
		case ']', '}':
			depth--
		}
	}
	return depth, true
}

func (r *Reader) parseHeader(line []byte) error {
	if depth, ok := withinDepth(line, r.opts.MaxDepth); !ok {
		return reject(r.path, 1, "JSON nested deeper than %d levels (at least %d)", r.opts.MaxDepth, depth)
	}
	if !gjson.ValidBytes(line) || !gjson.ParseBytes(line).IsObject() || !gjson.ParseBytes(line).IsObject() {
		return reject(r.path, 1, "not a tributary sync file (the first line is not a JSON header)")
	}
	if f := gjson.GetBytes(line, "format"); f.String() != Format {
		return reject(r.path, 1, "not a tributary sync file (format %q)", f.String())
	}
	if v := gjson.GetBytes(line, "version"); v.Int() != Version || v.Type != gjson.Number {
		return reject(r.path, 1, "unknown format version %s: this tributary reads version %d; upgrade tributary on the master", v.Raw, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.header); err != nil {
		return reject(r.path, 1, "bad header: %v", err)
	}
	if err := r.checkHeader(); err != nil {
		return err
	}
	r.columns = make(map[string]map[string]bool, len(r.header.Tables))
	for name, info := range r.header.Tables {
		cols := make(map[string]bool, len(info.Columns))
		for _, c := range info.Columns {
			cols[c] = true
		}
		r.columns[name] = cols
	}
	return nil
}

func (r *Reader) checkHeader() error {
	h := &r.header
	if !childdb.PrefixPattern.MatchString(h.Prefix) {
		return reject(r.path, 1, "prefix %q is not valid (lower-case letter, then up to 31 of a-z, 0-9, _)", h.Prefix)
	}
	if h.Sequence == 0 {
		return reject(r.path, 1, "sequence must be 1 or more")
	}
	if h.Stream == "" {
		return reject(r.path, 1, "header names no stream")
	}
	if h.Mode != ModeFull && h.Mode != ModeIncremental {
		return reject(r.path, 1, "mode %q is neither %s nor %s", h.Mode, ModeFull, ModeIncremental)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Until); err != nil {
		return reject(r.path, 1, "until %q is not an RFC 3339 time", h.Until)
	}
	if h.Mode == ModeIncremental {
		if _, err := time.Parse(time.RFC3339Nano, h.Since); err != nil {
			return reject(r.path, 1, "since %q is not an RFC 3339 time", h.Since)
		}
	}
	for name, info := range h.Tables {
		if len(info.Columns) == 0 || len(info.Key) == 0 {
			return reject(r.path, 1, "table %s has no columns or no key in the header", name)
		}
	}
	return nil
}

// Next returns the next record. At the trailer it checks the record count,
// the checksum and, when a key is set, the HMAC, and returns io.EOF only
// when all of them hold and nothing follows the trailer.
func (r *Reader) Next() (*Record, error) {
	if r.done {
		return nil, io.EOF
	}
	sumBefore := r.snapshotSums()
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if err := r.validJSON(line, r.line); err != nil {
		return nil, err
	}
	obj := gjson.ParseBytes(line)
	if !obj.IsObject() {
		return nil, reject(r.path, r.line, "not a JSON object")
	}
	if obj.Get("end").Exists() {
		return nil, r.finish(obj, sumBefore)
	}
	r.records++
	if r.records > r.opts.MaxRecords {
		return nil, reject(r.path, r.line, "more than %d records", r.opts.MaxRecords)
	}
	if err := r.parseRecord(obj); err != nil {
		return nil, err
	}
	return &r.rec, nil
}

// snapshotSums keeps the checksums of every byte before the line about to
// be read: if that line is the trailer, these are what it must match.
func (r *Reader) snapshotSums() [2][]byte {
	var sums [2][]byte
	sums[0] = r.sum.Sum(nil)
	if r.mac != nil {
		sums[1] = r.mac.Sum(nil)
	}
	return sums
}

func (r *Reader) parseRecord(obj gjson.Result) error {
	rec := Record{Line: r.line, Table: obj.Get("t").String(), Op: obj.Get("op").String()}
	cols, ok := r.columns[rec.Table]
	if !ok {
		return reject(r.path, r.line, "record for table %q, which the header does not list", rec.Table)
	}
	switch rec.Op {
	case OpUpsert:
		if err := r.parseUpsert(obj, &rec, cols); err != nil {
			return err
		}
	case OpLive:
		if err := r.parseLive(obj, &rec); err != nil {
			return err
		}
	default:
		return reject(r.path, r.line, "unknown operation %q", rec.Op)
	}
	r.rec = rec
	return nil
}

func (r *Reader) parseUpsert(obj gjson.Result, rec *Record, cols map[string]bool) error {
	if id := obj.Get("id"); id.Exists() {
		n, ok := exactInt(id)
		if !ok {
			return reject(r.path, r.line, "id %s is not an integer", id.Raw)
		}
		rec.ID, rec.HasID = n, true
	}
	rec.Row = obj.Get("row")
	if !rec.Row.IsObject() {
		return reject(r.path, r.line, "upsert without a row object")
	}
	var bad string
	rec.Row.ForEach(func(key, value gjson.Result) bool {
		if !cols[key.Str] {
			bad = key.Str
			return false
		}
		if value.IsObject() || value.IsArray() {
			bad = key.Str + " (a nested value)"
			return false
		}
		return true
	})
	if bad != "" {
		return reject(r.path, r.line, "table %s has no column %s in the header", rec.Table, bad)
	}
	return nil
}

func (r *Reader) parseLive(obj gjson.Result, rec *Record) error {
	ranges := obj.Get("ranges")
	if !ranges.IsArray() {
		return reject(r.path, r.line, "live record without ranges")
	}
	var bad bool
	ranges.ForEach(func(_, pair gjson.Result) bool {
		ends := pair.Array()
		if len(ends) != 2 {
			bad = true
			return false
		}
		lo, ok1 := exactInt(ends[0])
		hi, ok2 := exactInt(ends[1])
		if !ok1 || !ok2 || lo > hi {
			bad = true
			return false
		}
		rec.Ranges = append(rec.Ranges, [2]int64{lo, hi})
		return true
	})
	if bad {
		return reject(r.path, r.line, "live ranges must be [low, high] integer pairs with low <= high")
	}
	return nil
}

// exactInt accepts a JSON integer that fits int64, nothing rounded.
func exactInt(v gjson.Result) (int64, bool) {
	if v.Type != gjson.Number {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	return n, err == nil
}

func (r *Reader) finish(obj gjson.Result, sums [2][]byte) error {
	var t Trailer
	dec := json.NewDecoder(bytes.NewReader([]byte(obj.Raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || !t.End {
		return reject(r.path, r.line, "bad trailer")
	}
	if t.Records != r.records {
		return reject(r.path, r.line, "trailer says %d records, the file holds %d", t.Records, r.records)
	}
	if t.SHA256 != hex.EncodeToString(sums[0]) {
		return reject(r.path, r.line, "checksum mismatch: the file was damaged or changed after it was written")
	}
	if r.mac != nil {
		want, err := hex.DecodeString(t.HMAC)
		if t.HMAC == "" {
			return reject(r.path, r.line, "the file is not signed, but this master requires signed files (--sign-key-file)")
		}
		if err != nil || !hmac.Equal(want, sums[1]) {
			return reject(r.path, r.line, "signature (HMAC) does not match: the file was not signed with this master's key")
		}
	}
	if err := r.expectEnd(); err != nil {
		return err
	}
	r.trailer = t
	r.done = true
	return io.EOF
}

// Trailer is the file's verified trailer; it is set only once Next has
// returned io.EOF (the zero Trailer before that).
func (r *Reader) Trailer() Trailer { return r.trailer }

// expectEnd makes sure nothing follows the trailer, and that a gzip stream
// is complete (its own CRC checked).
func (r *Reader) expectEnd() error {
	if _, err := r.br.ReadByte(); err == nil {
		return reject(r.path, r.line+1, "data after the trailer")
	} else if !errors.Is(err, io.EOF) {
		return r.readError(err)
	}
	return nil
}
