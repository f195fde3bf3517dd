package syncfile

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendInt(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"zero", "0", "0"},
		{"negative", "-42", "-42"},
		{"zerofill padding dropped", "00042", "42"},
		{"zerofill zero", "0000", "0"},
		{"2^53 is exact", "9007199254740992", "9007199254740992"},
		{"-2^53 is exact", "-9007199254740992", "-9007199254740992"},
		{"2^53+1 is a string", "9007199254740993", `"9007199254740993"`},
		{"-2^53-1 is a string", "-9007199254740993", `"-9007199254740993"`},
		{"bigint unsigned max", "18446744073709551615", `"18446744073709551615"`},
		{"bigint min", "-9223372036854775808", `"-9223372036854775808"`},
		{"16 digits below 2^53", "1000000000000000", "1000000000000000"},
		// Not an integer at all: never produce an invalid number.
		{"garbage", "12a", `"12a"`},
		{"empty", "", `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendInt(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("appendInt(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsCanonicalInt(t *testing.T) {
	good := []string{"0", "7", "-7", "123456", "9223372036854775807", "-9223372036854775808"}
	bad := []string{"", "-", "-0", "007", "+7", "7a", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "1.0"}
	for _, s := range good {
		if !isCanonicalInt([]byte(s)) {
			t.Errorf("isCanonicalInt(%q) = false", s)
		}
	}
	for _, s := range bad {
		if isCanonicalInt([]byte(s)) {
			t.Errorf("isCanonicalInt(%q) = true", s)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	good := []string{"0", "-0", "1.5", "3.14159", "1e38", "1e+38", "-1.7976931348623157e308", "2.2250738585072014e-308", "10"}
	bad := []string{"", "-", "01", ".5", "5.", "1e", "inf", "-inf", "nan", "NaN", "1.5.3", "+1", "0x10", "1e+"}
	for _, s := range good {
		if !isJSONNumber([]byte(s)) {
			t.Errorf("isJSONNumber(%q) = false", s)
		}
	}
	for _, s := range bad {
		if isJSONNumber([]byte(s)) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // the decoded JSON string
		wantOK bool
	}{
		{"plain", "Ann", "Ann", true},
		{"quotes and backslash", `a"b\c`, `a"b\c`, true},
		{"controls", "a\nb\tc\rd\x00e\x1f", "a\nb\tc\rd\x00e\x1f", true},
		{"unicode", "Zoë 日本 🎉 \u2028", "Zoë 日本 🎉 \u2028", true},
		{"invalid utf-8 replaced", "a\xffb\xc3", "a\ufffdb\ufffd", false},
		{"latin1 byte alone", "caf\xe9", "caf\ufffd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := appendText(nil, []byte(tt.in))
			if !json.Valid(out) {
				t.Fatalf("not valid JSON: %q", out)
			}
			var got string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("appendText(%q) = %q ok=%v, want %q ok=%v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLiveRanges(t *testing.T) {
	tests := []struct {
		name string
		ids  []int64
		max  int
		want []string
	}{
		{"empty table still says so", nil, 10, []string{`{"t":"c","op":"live","ranges":[]}`}},
		{"runs and holes", []int64{1, 2, 3, 5, 7, 8}, 10, []string{`{"t":"c","op":"live","ranges":[[1,3],[5,5],[7,8]]}`}},
		{"split into bounded records", []int64{1, 3, 5, 6, 9}, 2, []string{
			`{"t":"c","op":"live","ranges":[[1,1],[3,3]]}`,
			`{"t":"c","op":"live","ranges":[[5,6],[9,9]]}`,
		}},
		{"exactly full", []int64{1, 3}, 2, []string{`{"t":"c","op":"live","ranges":[[1,1],[3,3]]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			lr := NewLiveRanges("c", tt.max, func(b []byte) error {
				if !json.Valid(b) {
					t.Errorf("invalid JSON %s", b)
				}
				got = append(got, string(b))
				return nil
			})
			for _, id := range tt.ids {
				if err := lr.Add(id); err != nil {
					t.Fatal(err)
				}
			}
			if err := lr.Finish(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
