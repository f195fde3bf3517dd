package plan

import (
	"testing"

	"tributary/schema"
)

func TestFractionalDigits(t *testing.T) {
	tests := []struct {
		dataType, columnType string
		want                 int
	}{
		{"datetime", "datetime", 0},
		{"datetime", "datetime(3)", 3},
		{"timestamp", "timestamp(6)", 6},
		{"time", "time(2)", 2},
		{"date", "date", -1},
		{"varchar", "varchar(12)", -1},
	}
	for _, tt := range tests {
		if got := fractionalDigits(&schema.Column{DataType: tt.dataType, ColumnType: tt.columnType}); got != tt.want {
			t.Errorf("fractionalDigits(%s) = %d, want %d", tt.columnType, got, tt.want)
		}
	}
}

func TestCutsFraction(t *testing.T) {
	tests := []struct {
		value  string
		digits int
		want   bool
	}{
		{"2020-02-29 12:34:56.789", 0, true},
		{"2020-02-29 12:34:56.789", 3, false},
		{"2020-02-29 12:34:56.780000", 2, false}, // trailing zeros are not data
		{"2020-02-29 12:34:56.781", 2, true},
		{"2020-02-29 12:34:56", 0, false},
		{"838:59:59.5", 0, true},
		{"0000-00-00 00:00:00", 0, false},
	}
	for _, tt := range tests {
		if got := cutsFraction(tt.value, tt.digits); got != tt.want {
			t.Errorf("cutsFraction(%q, %d) = %t, want %t", tt.value, tt.digits, got, tt.want)
		}
	}
}
