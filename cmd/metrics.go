package cmd

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"tributary/export"
	"tributary/importer"
	"tributary/internal/exitcode"
	"tributary/internal/metrics"
	"tributary/mapping"
)

// Metric names are documented in docs/monitoring.md; alerts rely on them,
// so they change only with that page.
const (
	mImportLastRun       = "tributary_import_last_run_timestamp_seconds"
	mImportLastExit      = "tributary_import_last_exit_code"
	mImportDuration      = "tributary_import_duration_seconds"
	mImportLastSuccess   = "tributary_import_last_success_timestamp_seconds"
	mImportWindowEnd     = "tributary_import_window_end_timestamp_seconds"
	mImportSequence      = "tributary_import_sequence"
	mImportRows          = "tributary_import_rows_total"
	mImportFilesApplied  = "tributary_import_files_applied_total"
	mImportFilesRejected = "tributary_import_files_rejected_total"
	mImportFilesFailed   = "tributary_import_files_failed_total"
	mImportFilesStale    = "tributary_import_files_stale_total"

	mExportLastRun     = "tributary_export_last_run_timestamp_seconds"
	mExportLastExit    = "tributary_export_last_exit_code"
	mExportDuration    = "tributary_export_duration_seconds"
	mExportLastSuccess = "tributary_export_last_success_timestamp_seconds"
	mExportWindowEnd   = "tributary_export_window_end_timestamp_seconds"
	mExportSequence    = "tributary_export_sequence"
	mExportRows        = "tributary_export_rows_total"
)

// writeImportMetrics loads the metrics file, updates it with this run and
// writes it back atomically; db is nil when the run ended before it
// connected. Samples of prefixes this run did not touch
// stay as they were, so an alert on a prefix's last success keeps working.
func writeImportMetrics(ctx context.Context, path string, db *sql.DB, results []importer.Result, runErr error, took time.Duration) error {
	set, err := metrics.Load(path)
	if err != nil {
		return err
	}
	now := float64(time.Now().Unix())
	set.Gauge(mImportLastRun, "Unix time the last import run ended.", now)
	set.Gauge(mImportLastExit, "Exit code of the last import run (0 success, 1 failure, 2 usage, 3 rejected file, 75 lock busy, 130 interrupted).", float64(exitcode.Code(runErr)))
	set.Gauge(mImportDuration, "Seconds the last import run took.", took.Seconds())
	touched := map[string]bool{}
	for _, r := range results {
		switch {
		case r.Prefix == "" || r.NotTried:
		case r.Err == nil:
			touched[r.Prefix] = true
			set.Gauge(mImportLastSuccess, "Unix time a file of the prefix was last applied (or found already applied).", now, "prefix", r.Prefix)
			if r.Skipped {
				continue
			}
			set.AddCounter(mImportFilesApplied, "Sync files applied, by prefix.", 1, "prefix", r.Prefix)
			for _, t := range r.Tables {
				for _, op := range []struct {
					name string
					n    int64
				}{{"insert", t.Inserted}, {"update", t.Updated}, {"delete", t.Deleted}} {
					set.AddCounter(mImportRows, "Master rows written by import, by prefix, table and operation.", float64(op.n), "prefix", r.Prefix, "table", t.Table, "operation", op.name)
				}
			}
		case errors.Is(r.Err, importer.ErrStale):
			// Older than what the master holds: nothing to do, no alert.
			set.AddCounter(mImportFilesStale, "Stale sync files (exit 3): older than what the master holds, nothing to do; by prefix.", 1, "prefix", r.Prefix)
		case exitcode.Code(r.Err) == exitcode.Rejected:
			set.AddCounter(mImportFilesRejected, "Sync files rejected (exit 3) for another reason than being stale, by prefix.", 1, "prefix", r.Prefix)
		case exitcode.Code(r.Err) != exitcode.Locked:
			set.AddCounter(mImportFilesFailed, "Sync files that failed for another reason than a rejection or a busy lock, by prefix.", 1, "prefix", r.Prefix)
		}
	}
	for prefix := range touched {
		if db == nil {
			break
		}
		last, err := mapping.LedgerLast(ctx, db, prefix)
		if err != nil || last == nil {
			continue
		}
		set.Gauge(mImportWindowEnd, "End of the latest window the master holds for the prefix, Unix time: time() minus this is the lag.", float64(last.Until.UnixMilli())/1000, "prefix", prefix)
		set.Gauge(mImportSequence, "Sequence number of the prefix's latest applied file.", float64(last.Sequence), "prefix", prefix)
	}
	return set.Write(path)
}

// writeExportMetrics records one export run of a prefix.
func writeExportMetrics(path, prefix string, res *export.Result, runErr error, took time.Duration) error {
	set, err := metrics.Load(path)
	if err != nil {
		return err
	}
	now := float64(time.Now().Unix())
	set.Gauge(mExportLastRun, "Unix time the prefix's last export run ended.", now, "prefix", prefix)
	set.Gauge(mExportLastExit, "Exit code of the prefix's last export run (0 success, 1 failure, 2 usage, 75 lock busy, 130 interrupted).", float64(exitcode.Code(runErr)), "prefix", prefix)
	set.Gauge(mExportDuration, "Seconds the prefix's last export run took.", took.Seconds(), "prefix", prefix)
	if runErr != nil || res == nil {
		return set.Write(path)
	}
	set.Gauge(mExportLastSuccess, "Unix time the prefix's last successful export ended.", now, "prefix", prefix)
	set.Gauge(mExportWindowEnd, "End of the prefix's latest exported window, Unix time.", float64(res.Until.UnixMilli())/1000, "prefix", prefix)
	set.Gauge(mExportSequence, "Sequence number of the prefix's latest sync file.", float64(res.State.Sequence), "prefix", prefix)
	for _, t := range res.Tables {
		set.AddCounter(mExportRows, "Rows written to sync files, by prefix, table and operation.", float64(t.Rows), "prefix", prefix, "table", t.Name, "operation", "upsert")
	}
	return set.Write(path)
}
