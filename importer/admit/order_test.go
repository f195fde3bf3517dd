package admit

import (
	"errors"
	"testing"
	"time"

	"tributary/childdb"
	"tributary/importer/reject"
	"tributary/mapping"
	"tributary/syncfile"
)

func TestCheckOrder(t *testing.T) {
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	last := &mapping.LedgerEntry{Prefix: "nyc", Stream: "A", Sequence: 5, Until: at("2024-05-01T12:00:00Z")}
	header := func(stream string, seq uint64, mode string) *syncfile.Header {
		return &syncfile.Header{Prefix: "nyc", Stream: stream, Sequence: seq, Mode: mode}
	}
	from := func(h *syncfile.Header, host, db string) *syncfile.Header {
		h.Source = syncfile.Source{Host: host, Database: db}
		return h
	}
	origin := func(host, db string) *childdb.Origin { return &childdb.Origin{Host: host, Database: db} }
	win := func(since, until string) Window {
		w := Window{Until: at(until)}
		if since != "" {
			s := at(since)
			w.Since = &s
		}
		return w
	}
	tests := []struct {
		name     string
		h        *syncfile.Header
		w        Window
		v        LedgerView
		sentinel error
	}{
		{"next file", header("A", 6, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true}, nil},
		{"overlapping window", header("A", 6, "incremental"), win("2024-05-01T11:59:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true}, nil},
		// export never lets a window end before the last; a quiet second
		// gives an empty window ending where the last one did
		{"empty window", header("A", 6, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"), LedgerView{Last: last, StreamSeen: true}, nil},
		{"window starts late", header("A", 6, "incremental"), win("2024-05-01T12:00:01Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true}, reject.ErrGap},
		{"sequence skipped", header("A", 7, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true}, reject.ErrGap},
		{"older sequence", header("A", 4, "incremental"), win("2024-05-01T11:00:00Z", "2024-05-01T11:50:00Z"), LedgerView{Last: last, StreamSeen: true}, reject.ErrStale},
		{"first file incremental", header("A", 1, "incremental"), win("2024-05-01T11:00:00Z", "2024-05-01T11:50:00Z"), LedgerView{Last: nil, StreamSeen: false}, reject.ErrGap},
		{"stream never started", header("B", 2, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: false}, reject.ErrGap},
		{"stream replaced", header("B", 9, "incremental"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true}, reject.ErrStale},
		{"first full", header("A", 1, "full"), win("", "2024-05-01T11:00:00Z"), LedgerView{Last: nil, StreamSeen: false}, nil},
		{"new stream full", header("C", 1, "full"), win("", "2024-05-01T12:00:01Z"), LedgerView{Last: last, StreamSeen: false}, nil},
		{"full in the same second", header("A", 6, "full"), win("", "2024-05-01T12:00:00Z"), LedgerView{Last: last, StreamSeen: true}, nil},
		{"older full", header("C", 1, "full"), win("", "2024-05-01T11:00:00Z"), LedgerView{Last: last, StreamSeen: false}, reject.ErrStale},
		{"other stream's full at the same moment", header("C", 1, "full"), win("", "2024-05-01T12:00:00Z"), LedgerView{Last: last, StreamSeen: false}, reject.ErrStale},
		{"same origin", from(header("A", 6, "incremental"), "db1:3306", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true, StreamOrigin: origin("db1:3306", "civi")}, nil},
		{"other database", from(header("A", 6, "incremental"), "db1:3306", "civi2"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true, StreamOrigin: origin("db1:3306", "civi")}, reject.ErrSource},
		{"other server", from(header("A", 6, "incremental"), "db2:3306", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true, StreamOrigin: origin("db1:3306", "civi")}, reject.ErrSource},
		// a full file of the stream from another database is refused too
		{"other database, full", from(header("A", 6, "full"), "db1:3306", "civi2"), win("", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true, StreamOrigin: origin("db1:3306", "civi")}, reject.ErrSource},
		// a file from a child that does not record its server yet
		{"host not recorded", from(header("A", 6, "incremental"), "", "civi"), win("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"), LedgerView{Last: last, StreamSeen: true, StreamOrigin: origin("db1:3306", "civi")}, nil},
		// a new stream may come from anywhere (the guards are --max-delete and a warning)
		{"new stream from another database", from(header("C", 1, "full"), "db2:3306", "civi2"), win("", "2024-05-01T12:00:01Z"), LedgerView{Last: last, StreamSeen: false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOrder(tt.h, tt.w, tt.v)
			if (tt.sentinel == nil) != (err == nil) || (err != nil && !errors.Is(err, tt.sentinel)) {
				t.Errorf("CheckOrder = %v, want %v", err, tt.sentinel)
			}
		})
	}
}
