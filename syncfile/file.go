package syncfile

import (
	"fmt"
	"io"
	"math"
	"os"
)

// File is a sync file opened once for a whole run: its header, read when
// it is opened, says where the file goes in the order of a run's files,
// and every Reader of it reads it again from its first byte, so that what
// is applied is always what that reader verified. The handle stays the
// same while the file waits for its turn: a file replaced under the same
// name is not the one read.
type File struct {
	path   string
	f      *os.File
	header Header
}

// OpenFile opens a sync file and reads and checks its header (as a Reader
// does; a file whose header is unreadable is rejected the same way).
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sync file: %w", err)
	}
	r, err := newReader(path, io.NewSectionReader(f, 0, math.MaxInt64), ReaderOptions{})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{path: path, f: f, header: *r.Header()}, nil
}

// Path is the name the file was opened by.
func (f *File) Path() string { return f.path }

// Header is the header as read when the file was opened: nothing in it is
// verified until a Reader reaches the trailer.
func (f *File) Header() *Header { return &f.header }

// Reader reads the file from its first byte, with the header checked
// again. Close the reader before the File; readers of one File may read
// at the same time.
func (f *File) Reader(opts ReaderOptions) (*Reader, error) {
	return newReader(f.path, io.NewSectionReader(f.f, 0, math.MaxInt64), opts)
}

// Close releases the file.
func (f *File) Close() error { return f.f.Close() }
