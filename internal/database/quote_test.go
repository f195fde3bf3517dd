package database

import "testing"

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"civicrm_contact", "`civicrm_contact`"},
		{"we`ird", "`we``ird`"},
		{"`", "````"},
		{"a`; DROP TABLE x; --", "`a``; DROP TABLE x; --`"},
		{"", "``"},
	}
	for _, tt := range tests {
		if got := QuoteIdent(tt.in); got != tt.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuoteIdentsAndPlaceholders(t *testing.T) {
	if got := QuoteIdents([]string{"a", "b`c"}); got != "`a`, `b``c`" {
		t.Errorf("QuoteIdents = %s", got)
	}
	if got := Placeholders(3); got != "?, ?, ?" {
		t.Errorf("Placeholders(3) = %q", got)
	}
	if got := Placeholders(0); got != "" {
		t.Errorf("Placeholders(0) = %q", got)
	}
}
