package syncfile

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
)

// FileMode is the mode of every sync file: it holds people's personal data.
const FileMode os.FileMode = 0o640

// WriterOptions choose compression and signing.
type WriterOptions struct {
	Gzip    bool
	SignKey []byte // when set, the trailer carries an HMAC-SHA256
}

// Writer writes one sync file under its temporary name and moves it into
// place on Commit. Nothing is visible under the final name before that.
type Writer struct {
	dir, name, tmpPath string
	file               *os.File
	gz                 *gzip.Writer
	buf                *bufio.Writer
	sum                hash.Hash
	mac                hash.Hash
	records            int64
	headerWritten      bool
	done               bool
}

// Create starts a sync file named name in dir, written as dir/.name.tmp.
// A temporary file left by a crashed run is replaced.
func Create(dir, name string, opts WriterOptions) (*Writer, error) {
	w := &Writer{dir: dir, name: name, tmpPath: filepath.Join(dir, TempName(name)), sum: sha256.New()}
	if len(opts.SignKey) > 0 {
		w.mac = hmac.New(sha256.New, opts.SignKey)
	}
	f, err := os.OpenFile(w.tmpPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, FileMode)
	if err != nil {
		return nil, fmt.Errorf("create sync file: %w", err)
	}
	// The umask may have narrowed or widened the mode; the contract is 0640.
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(w.tmpPath)
		return nil, fmt.Errorf("create sync file: %w", err)
	}
	w.file = f
	var sink io.Writer = f
	if opts.Gzip {
		gz, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
		if err != nil {
			f.Close()
			os.Remove(w.tmpPath)
			return nil, fmt.Errorf("create sync file: %w", err)
		}
		w.gz, sink = gz, gz
	}
	w.buf = bufio.NewWriterSize(&hashingWriter{w: w, sink: sink}, 256<<10)
	return w, nil
}

// hashingWriter feeds the uncompressed bytes to the checksum (and HMAC) on
// their way to the file, so the trailer covers exactly what a reader sees.
type hashingWriter struct {
	w    *Writer
	sink io.Writer
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	h.w.sum.Write(p)
	if h.w.mac != nil {
		h.w.mac.Write(p)
	}
	return h.sink.Write(p)
}

// WriteHeader writes the header line; it must come first, exactly once.
func (w *Writer) WriteHeader(h *Header) error {
	if w.headerWritten {
		return fmt.Errorf("sync file %s: header written twice", w.name)
	}
	h.Format, h.Version = Format, Version
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("sync file %s: header: %w", w.name, err)
	}
	w.headerWritten = true
	return w.writeLine(line)
}

// WriteRecord writes one record line: a complete JSON object, no newline.
func (w *Writer) WriteRecord(line []byte) error {
	if !w.headerWritten {
		return fmt.Errorf("sync file %s: record before header", w.name)
	}
	w.records++
	return w.writeLine(line)
}

// Records is the number of records written so far.
func (w *Writer) Records() int64 { return w.records }

func (w *Writer) writeLine(line []byte) error {
	if _, err := w.buf.Write(line); err != nil {
		return fmt.Errorf("write sync file %s: %w", w.tmpPath, err)
	}
	if err := w.buf.WriteByte('\n'); err != nil {
		return fmt.Errorf("write sync file %s: %w", w.tmpPath, err)
	}
	return nil
}

// Commit writes the trailer, flushes and fsyncs the file, renames it to its
// final name and fsyncs the directory, so that after a crash the file is
// either complete under its name or not there at all. It returns the path.
func (w *Writer) Commit() (string, error) {
	if err := w.commit(); err != nil {
		w.Abort()
		return "", err
	}
	return filepath.Join(w.dir, w.name), nil
}

func (w *Writer) commit() error {
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write sync file %s: %w", w.tmpPath, err)
	}
	trailer := Trailer{End: true, Records: w.records, SHA256: hex.EncodeToString(w.sum.Sum(nil))}
	if w.mac != nil {
		trailer.HMAC = hex.EncodeToString(w.mac.Sum(nil))
	}
	line, err := json.Marshal(trailer)
	if err != nil {
		return err
	}
	if err := w.writeLine(line); err != nil {
		return err
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write sync file %s: %w", w.tmpPath, err)
	}
	if w.gz != nil {
		if err := w.gz.Close(); err != nil {
			return fmt.Errorf("write sync file %s: %w", w.tmpPath, err)
		}
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("fsync sync file %s: %w", w.tmpPath, err)
	}
	if err := w.file.Close(); err != nil {
		return fmt.Errorf("close sync file %s: %w", w.tmpPath, err)
	}
	w.file = nil
	final := filepath.Join(w.dir, w.name)
	if err := os.Rename(w.tmpPath, final); err != nil {
		return fmt.Errorf("rename sync file into place: %w", err)
	}
	w.done = true
	return SyncDir(w.dir)
}

// Abort closes and removes the temporary file; it is safe to call after
// Commit (it then does nothing) and more than once.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	if w.file != nil {
		w.file.Close()
		w.file = nil
	}
	os.Remove(w.tmpPath)
	w.done = true
}

// SyncDir fsyncs a directory so that a rename in it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
