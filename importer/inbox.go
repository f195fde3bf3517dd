package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"tributary/internal/exitcode"
	"tributary/schema"
	"tributary/syncfile"
)

// Inbox subdirectories: applied (and already applied) files go to done/,
// rejected files to failed/ with NAME.why beside them.
const (
	DoneDir   = "done"
	FailedDir = "failed"
)

// InboxFile is what RunInbox did with one file of the inbox.
type InboxFile struct {
	Result
	// MovedTo is the file's new path (in done/ or failed/); empty when the
	// file stays in the inbox for the next run.
	MovedTo string
	// Why is the .why file written beside a rejected file.
	Why string
	// Waiting: the file was not tried because an earlier file of its
	// prefix failed, its prefix's lock was busy, or the run was interrupted.
	Waiting bool
}

// RunInbox applies every complete sync file in dir: names that
// syncfile.ParseFileName accepts, never dotfiles or *.tmp (rsync and scp
// write those while a transfer is in flight). Files are applied in order
// of (prefix, sequence). An applied or already applied file moves to
// dir/done/; a rejected one (exit 3) to dir/failed/ with NAME.why beside it
// saying what went wrong, when, and what to do. A prefix stops at its
// first file that is not applied; its later files wait in the inbox, while
// other prefixes go on. A failure that is not the file's fault (the server
// went away, a busy lock) leaves the file in the inbox for the next run.
// Moves are renames within dir, and both directories are fsynced.
//
// With opts.DryRun nothing is moved. opts.Rebuild is refused: rebuild from
// a named file instead. The error joins every file's error under the exit
// code that matters most, as Run's does.
func RunInbox(ctx context.Context, db *sql.DB, s *schema.Schema, dir string, opts Options) ([]InboxFile, error) {
	if opts.Rebuild {
		return nil, exitcode.Errorf(exitcode.Usage, "--rebuild cannot be combined with --inbox: name the full file to rebuild from (tributary import --rebuild FILE)")
	}
	opts.defaults()
	entries, odd, err := scanInbox(dir)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	defer closeInbox(entries)
	if len(odd) > 0 {
		warn(&opts, "%s", oddNamesWarning(dir, odd))
	}
	// Before anything is applied: a file applied that cannot then leave the
	// inbox would be tried, and reported, on every later run.
	if err := checkInboxDirs(dir, !opts.DryRun); err != nil {
		return nil, err
	}
	var files []InboxFile
	if len(entries) == 0 {
		return files, nil
	}
	r, err := newRunner(ctx, db, s, opts)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Failure, err)
	}
	for _, group := range groupInbox(entries) {
		files = append(files, r.applyInbox(ctx, dir, group)...)
	}
	results := make([]Result, len(files))
	for i := range files {
		results[i] = files[i].Result
	}
	quietStale(ctx, notices{db: db, dryRun: opts.DryRun}, results)
	for i := range files {
		files[i].Quiet = results[i].Quiet
	}
	return files, combine(ctx, results)
}

// inboxEntry is one candidate file of the inbox.
type inboxEntry struct {
	queued
	name syncfile.NameInfo
}

// scanInbox lists the complete sync files of dir in (prefix, sequence)
// order, and the names that look like sync files but are not named as one
// (nyc-1-full.jsonl.gz, "x (1).jsonl.gz"): those are left alone. Files are
// opened when their turn comes, but two of one prefix and sequence (from
// two streams) are opened now: their headers say which ends first.
func scanInbox(dir string) (entries []inboxEntry, odd []string, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--inbox: %w", err)
	}
	var out []inboxEntry
	for _, de := range des {
		n := de.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".tmp") || !de.Type().IsRegular() {
			continue
		}
		info, ok := syncfile.ParseFileName(n)
		if !ok {
			if strings.Contains(n, ".jsonl") && !strings.HasSuffix(n, ".why") {
				odd = append(odd, n) // a held file's NAME.why is ours
			}
			continue
		}
		out = append(out, inboxEntry{queued: queued{path: filepath.Join(dir, n)}, name: info})
	}
	openTies(out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.name.Prefix != b.name.Prefix {
			return a.name.Prefix < b.name.Prefix
		}
		if a.name.Sequence != b.name.Sequence {
			return a.name.Sequence < b.name.Sequence
		}
		if a.until() != b.until() {
			return a.until() < b.until()
		}
		return a.path < b.path
	})
	return out, odd, nil
}

// openTies opens the files that share their prefix and sequence with
// another; one that cannot be opened is opened again at its turn, which
// then says why.
func openTies(entries []inboxEntry) {
	type seq struct {
		prefix   string
		sequence uint64
	}
	count := map[seq]int{}
	for _, e := range entries {
		count[seq{e.name.Prefix, e.name.Sequence}]++
	}
	for i := range entries {
		e := &entries[i]
		if count[seq{e.name.Prefix, e.name.Sequence}] > 1 {
			e.file, _ = syncfile.OpenFile(e.path)
		}
	}
}

// until is the window end the header of an opened file says; "" when it
// was not opened.
func (e *inboxEntry) until() string {
	if e.file == nil {
		return ""
	}
	return e.file.Header().Until
}

func closeInbox(entries []inboxEntry) {
	for _, e := range entries {
		if e.file != nil {
			e.file.Close()
		}
	}
}

// oddNamesWarning says, once per run, which files of the inbox look like
// sync files but are left alone because of their names.
func oddNamesWarning(dir string, odd []string) string {
	const shown = 5
	list := strings.Join(odd[:min(len(odd), shown)], ", ")
	if len(odd) > shown {
		list += fmt.Sprintf(" and %d more", len(odd)-shown)
	}
	return fmt.Sprintf("warning: inbox %s: %d file(s) left alone, not named like sync files (PREFIX-SEQUENCE-full|incr.jsonl[.gz], the sequence in 10 digits, as export names them): %s",
		dir, len(odd), list)
}

func groupInbox(entries []inboxEntry) [][]inboxEntry {
	var groups [][]inboxEntry
	for i, e := range entries {
		if i == 0 || e.name.Prefix != entries[i-1].name.Prefix {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], e)
	}
	return groups
}

// applyInbox applies one prefix's files in order under its lock and moves
// each; it stops at the first file that is not applied.
func (r *runner) applyInbox(ctx context.Context, dir string, group []inboxEntry) []InboxFile {
	out := make([]InboxFile, len(group))
	queue := make([]queued, len(group))
	for i, e := range group {
		out[i].Path, out[i].Prefix, out[i].Sequence, out[i].Mode = e.path, e.name.Prefix, e.name.Sequence, e.name.Mode
		out[i].Waiting = true
		queue[i] = e.queued
	}
	defer func() {
		// The files applyPrefix opened at their turn; the ones scanInbox
		// opened it closes itself.
		for i, q := range queue {
			if q.file != nil && group[i].file == nil {
				q.file.Close()
			}
		}
	}()
	if ctx.Err() != nil {
		return out
	}
	prefix := group[0].name.Prefix
	err := r.applyPrefix(ctx, prefix, queue, func(i int) *Result { return &out[i].Result }, func(i int) bool {
		return r.settle(dir, out, i) && ctx.Err() == nil
	})
	if err != nil {
		// A busy lock (75) or an unreachable server: every file waits.
		out[0].Err = fmt.Errorf("%s: %w", out[0].Path, err)
	}
	return out
}

// settle moves file i of out where its outcome says (done/, failed/, or
// held in the inbox with its .why) and reports whether the prefix's next
// file may be tried. A file another run took while this one waited for
// the lock is passed over.
func (r *runner) settle(dir string, out []InboxFile, i int) bool {
	f := &out[i]
	f.Waiting = false
	if f.Attempts == 0 && errors.Is(f.Err, fs.ErrNotExist) {
		f.Err = nil // another run took it while we waited for the lock
		return true
	}
	if r.opts.DryRun {
		if f.Err != nil || !f.Skipped {
			markWaiting(out[i+1:], f.Err == nil)
			return false
		}
		return true
	}
	var err error
	switch {
	case f.Err == nil:
		f.MovedTo, err = moveTo(dir, DoneDir, f.Path)
		if err == nil {
			err = removeHeldWhy(f.Path)
		}
	case errors.Is(f.Err, ErrMassDelete):
		// Held, not failed: the file is sound, and the admin decides.
		// Its prefix waits behind it (each later file would be refused
		// for the same rows, or for the gap), and each run says so again.
		f.Why, err = writeWhy(f.Path, f.Err, dir)
		if err != nil {
			f.Err = errors.Join(f.Err, exitcode.Wrap(exitcode.Failure, err))
		}
		markWaiting(out[i+1:], false)
		return false
	case isReject(f.Err):
		f.MovedTo, err = moveTo(dir, FailedDir, f.Path)
		if err == nil {
			f.Why, err = writeWhy(f.MovedTo, f.Err, dir)
		}
	default:
		markWaiting(out[i+1:], false)
		return false
	}
	if err != nil {
		f.Err = errors.Join(f.Err, exitcode.Wrap(exitcode.Failure, err))
	}
	if f.Err != nil {
		markWaiting(out[i+1:], false)
		return false
	}
	return true
}

// markWaiting leaves the rest of a prefix's files in the inbox; in a dry
// run after a file that would apply, they are marked not tried.
func markWaiting(rest []InboxFile, notTried bool) {
	for i := range rest {
		rest[i].Waiting = true
		rest[i].NotTried = notTried
	}
}

// checkInboxDirs makes sure files can move from dir into done/ and
// failed/: each is a directory (made when missing, unless create is false)
// into which a file of dir can be renamed. The probe is a dotfile, which
// no run picks up. A directory in the way is a configuration error (exit
// 2); a full or failing disk is a failure (exit 1).
func checkInboxDirs(dir string, create bool) error {
	for _, sub := range []string{DoneDir, FailedDir} {
		dest := filepath.Join(dir, sub)
		if err := checkInboxDir(dir, dest, create); err != nil {
			code := exitcode.Usage
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) {
				code = exitcode.Failure
			}
			return exitcode.Errorf(code, "inbox %s: files cannot be moved into %s (%v); nothing was applied: make it a directory this account can write to", dir, dest, err)
		}
	}
	return nil
}

func checkInboxDir(dir, dest string, create bool) error {
	info, err := os.Stat(dest)
	switch {
	case err == nil && !info.IsDir():
		return errors.New("it is not a directory")
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil // a dry run moves nothing and makes nothing
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(dest, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case !create:
		return nil
	}
	probe, err := os.CreateTemp(dir, ".tributary-probe-*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write to %s: %w", dir, err)
	}
	probe.Close()
	defer os.Remove(probe.Name())
	moved := filepath.Join(dest, filepath.Base(probe.Name()))
	if err := os.Rename(probe.Name(), moved); err != nil {
		return err
	}
	return os.Remove(moved)
}

// moveTo renames path into dir/sub (created when missing) and fsyncs both
// directories. A file of that name already there is kept: the new one gets
// a numbered name (NAME.2, NAME.3, ...).
func moveTo(dir, sub, path string) (string, error) {
	dest := filepath.Join(dir, sub)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", fmt.Errorf("move %s: %w", filepath.Base(path), err)
	}
	base := filepath.Base(path)
	target := filepath.Join(dest, base)
	for n := 2; ; n++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = filepath.Join(dest, fmt.Sprintf("%s.%d", base, n))
	}
	if err := os.Rename(path, target); err != nil {
		return "", fmt.Errorf("move %s to %s: %w", base, dest, err)
	}
	if err := syncfile.SyncDir(dest); err != nil {
		return target, err
	}
	return target, syncfile.SyncDir(dir)
}

// removeHeldWhy removes the .why a run wrote beside a file it held in the
// inbox (refused mass deletion), once the file is applied.
func removeHeldWhy(path string) error {
	err := os.Remove(path + ".why")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// writeWhy writes NAME.why beside a rejected file: the error, the time and
// what to do, in plain words.
func writeWhy(moved string, cause error, inbox string) (string, error) {
	why := moved + ".why"
	result := "rejected (exit code 3); the master was not changed by this file"
	if errors.Is(cause, ErrMassDelete) {
		result = "held in the inbox (exit code 3); the master was not changed by this file"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "file:    %s\n", filepath.Base(moved))
	fmt.Fprintf(&b, "time:    %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "result:  %s\n", result)
	fmt.Fprintf(&b, "error:   %v\n", cause)
	fmt.Fprintf(&b, "\nwhat to do:\n%s\n", advice(cause, filepath.Base(moved), inbox))
	tmp := why + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", filepath.Base(why), err)
	}
	if err := os.Rename(tmp, why); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", filepath.Base(why), err)
	}
	return why, syncfile.SyncDir(filepath.Dir(why))
}

// advice tells the admin what repairs a rejection.
func advice(cause error, name, inbox string) string {
	again := fmt.Sprintf("To try this very file again once the cause is fixed, move it back: mv %s %s/", filepath.Join(inbox, FailedDir, name), inbox)
	full := "run `tributary export --full` on the child (the full file it writes replaces everything this prefix sent before and repairs any gap)"
	var damaged *syncfile.RejectError
	switch {
	case errors.Is(cause, ErrStale):
		return "Nothing: the master already holds newer data of this child, which covers this file. You may delete it."
	case errors.Is(cause, ErrGap):
		return "Files of this child are missing between the last applied one and this one (lost in transit, or the child's state was reset).\nFind them (on the child, in the transfer) and put them into the inbox, or " + full + ".\nLater files of this prefix will be rejected the same way until then."
	case errors.Is(cause, ErrMassDelete):
		return "Nothing was deleted. Find out why the child lost these rows before you apply this file: a child restored from an empty or old backup, or an export of the wrong database, would empty the branch on the master.\nThe file stays in the inbox and the prefix's later files wait behind it; every run refuses it again until you decide.\nIf the child really deleted these rows, apply it with the command at the end of the error above; the next run then goes on with the later files."
	case errors.Is(cause, ErrSource):
		return "The file was read from another database than the earlier files of its stream: the child's export reached the wrong server or database (a mistyped --dsn or option file, a failover to another server, a restored copy). Do not apply it.\nCheck the child's connection. If the child really moved, run `tributary export --new-stream` there: its full file starts a new stream that replaces this one."
	case errors.Is(cause, ErrConflict):
		return "Another file with the same stream and sequence but other content was applied before: two children may be exporting under the same prefix, or one child's state file was copied to another.\nGive each child its own prefix and state file, then " + full + "."
	case errors.Is(cause, ErrMismatch):
		return "The file does not fit the master's sync map: the child and the master use different maps or schemas.\nRun `tributary check` with the same --map on both, make them agree, then " + full + ".\n" + again
	case errors.As(cause, &damaged):
		return "The file is damaged, truncated, unsigned or of another version (changed in transit, or the transfer copied it before it was complete).\nMake sure the transfer never copies dotfiles or *.tmp, then " + full + "."
	}
	return "The file cannot be applied as it is (the error names the table, column and child ID).\nFix the cause on the child or the master, then " + full + ".\n" + again
}
