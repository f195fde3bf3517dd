package export

import (
	"database/sql/driver"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tributary/syncfile"
)

// The driver parses integers and floats of the text protocol; rawText must
// print them back exactly as Rows.Scan into sql.RawBytes did before export
// read the driver directly, or files would change.
func TestRawTextPrintsLikeDatabaseSQL(t *testing.T) {
	text := []byte("Ann")
	tests := []struct {
		name string
		in   driver.Value
		want string
		null bool
	}{
		{name: "NULL", in: nil, null: true},
		{name: "text as is", in: text, want: "Ann"},
		// An empty string is a value, not NULL.
		{name: "empty text", in: []byte{}, want: ""},
		{name: "empty string", in: "", want: ""},
		{name: "smallest bigint", in: int64(math.MinInt64), want: "-9223372036854775808"},
		{name: "largest unsigned bigint", in: uint64(math.MaxUint64), want: "18446744073709551615"},
		{name: "float", in: float32(0.1), want: "0.1"},
		{name: "double", in: 0.1, want: "0.1"},
		{name: "large double", in: 1e21, want: "1e+21"},
		{name: "bool", in: true, want: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := rawText(nil, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.null != (got == nil) {
				t.Fatalf("rawText(%#v) = %#v: NULL is %v, want %v", tt.in, got, got == nil, tt.null)
			}
			if string(got) != tt.want {
				t.Errorf("rawText(%#v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The driver's bytes are passed through without a copy, and numbers are
// printed into the caller's buffer, never into the driver's.
func TestRawTextKeepsDriverBytesApart(t *testing.T) {
	driverBuf := []byte("12345")
	got, num, err := rawText(nil, driverBuf)
	if err != nil || &got[0] != &driverBuf[0] {
		t.Fatalf("text was copied or failed: %v", err)
	}
	printed, num, err := rawText(num, int64(7))
	if err != nil {
		t.Fatal(err)
	}
	if string(driverBuf) != "12345" || string(printed) != "7" {
		t.Fatalf("driver buffer %q, printed %q", driverBuf, printed)
	}
	again, _, err := rawText(num, int64(42))
	if err != nil || string(again) != "42" {
		t.Fatalf("reused buffer printed %q (%v)", again, err)
	}
}

func TestRawTextRefusesUnknownTypes(t *testing.T) {
	_, _, err := rawText(nil, time.Now())
	if err == nil || !strings.Contains(err.Error(), "time.Time") {
		t.Fatalf("err = %v, want one naming the type", err)
	}
}

// The live IDs of a whole track table come from the rows written: the
// held records must be the ones the separate scan of the keys writes, up
// to the largest key there is.
func TestHeldLiveMatchesTheScan(t *testing.T) {
	keys := []int64{1, 2, 3, 7, 9, 10, math.MaxInt64 - 1, math.MaxInt64}
	var want [][]byte
	scan := syncfile.NewLiveRanges("t", syncfile.MaxRangesPerRecord, func(line []byte) error {
		want = append(want, slices.Clone(line))
		return nil
	})
	h := newHeldLive("t", maxHeldLiveBytes)
	for _, k := range keys {
		if err := scan.Add(k); err != nil {
			t.Fatal(err)
		}
		if kept, err := h.add([]byte(strconv.FormatInt(k, 10))); !kept || err != nil {
			t.Fatalf("add(%d) = %v, %v", k, kept, err)
		}
	}
	if err := scan.Finish(); err != nil {
		t.Fatal(err)
	}
	got, err := h.finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || string(got[0]) != string(want[0]) || h.ids != int64(len(keys)) {
		t.Fatalf("held %q (%d IDs), the scan writes %q", got, h.ids, want)
	}
	if _, err := h.add([]byte("x")); err == nil {
		t.Fatal("a key that is not an integer was taken")
	}
}

// Records past the bound are not held in memory: add says so, or finish
// does for the last record, and live then reads the keys again.
func TestHeldLiveGivesUpPastItsBound(t *testing.T) {
	h := newHeldLive("t", 64)
	gaveUp := false
	for i := int64(0); i < 100*syncfile.MaxRangesPerRecord; i += 2 { // a gap after every ID
		kept, err := h.add([]byte(strconv.FormatInt(i, 10)))
		if err != nil {
			t.Fatal(err)
		}
		if !kept {
			gaveUp = true
			break
		}
	}
	if !gaveUp || h.lines != nil {
		t.Fatalf("gave up %v, %d lines held", gaveUp, len(h.lines))
	}
	last := newHeldLive("t", 16)
	if kept, err := last.add([]byte("1")); !kept || err != nil {
		t.Fatalf("add = %v, %v", kept, err)
	}
	if _, err := last.finish(); !errors.Is(err, errHeldFull) {
		t.Fatalf("finish past the bound: err = %v, want errHeldFull", err)
	}
}
