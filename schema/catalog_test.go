package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tributary/internal/dbtest"
)

// TestResolveAgainstDatabase reads a real schema through information_schema:
// declared foreign keys with their ON DELETE actions, keys, binary columns,
// a backtick inside a table name, and a multi-column foreign key.
func TestResolveAgainstDatabase(t *testing.T) {
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db,
		"CREATE TABLE location_type (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB",
		"CREATE TABLE `we``ird` (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, modified_date TIMESTAMP NULL, photo BLOB, employer_id INT UNSIGNED NULL, api_key VARCHAR(32),"+
			" CONSTRAINT fk_emp FOREIGN KEY (employer_id) REFERENCES `we``ird` (id) ON DELETE SET NULL) ENGINE=InnoDB",
		"CREATE TABLE phone (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, contact_id INT UNSIGNED NOT NULL, location_type_id INT UNSIGNED NULL,"+
			" CONSTRAINT fk_c FOREIGN KEY (contact_id) REFERENCES `we``ird` (id) ON DELETE CASCADE,"+
			" CONSTRAINT fk_l FOREIGN KEY (location_type_id) REFERENCES location_type (id)) ENGINE=InnoDB",
		"CREATE TABLE pair (a INT UNSIGNED NOT NULL, b INT UNSIGNED NOT NULL, PRIMARY KEY (a, b), UNIQUE KEY (b, a)) ENGINE=InnoDB",
		"CREATE TABLE pair_ref (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, a INT UNSIGNED, b INT UNSIGNED,"+
			" CONSTRAINT fk_pair FOREIGN KEY (a, b) REFERENCES pair (a, b)) ENGINE=InnoDB",
	)
	m, err := ParseMap([]byte("shared: [location_type]\ntables:\n  \"we`ird\": {track: modified_date, exclude: [api_key]}\n  phone: {owner: contact_id}\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Resolve(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := tableNames(s); got != "we`ird phone" {
		t.Errorf("order %q", got)
	}
	weird, _ := s.Table("we`ird")
	if ref := weird.Ref("employer_id"); ref == nil || ref.OnDelete != "SET NULL" || !ref.Deferred || !ref.Nullable {
		t.Errorf("employer_id = %+v", ref)
	}
	if c, _ := weird.Column("photo"); c == nil || !c.Binary {
		t.Errorf("photo = %+v, want binary", c)
	}
	if _, ok := weird.Column("api_key"); ok {
		t.Error("api_key excluded but present")
	}
	phone, _ := s.Table("phone")
	if ref := phone.Ref("contact_id"); ref == nil || ref.OnDelete != "CASCADE" || ref.Table != "we`ird" {
		t.Errorf("contact_id = %+v", ref)
	}
	if ref := phone.Ref("location_type_id"); ref == nil || !ref.Shared {
		t.Errorf("location_type_id = %+v", ref)
	}

	m2, _ := ParseMap([]byte("tables:\n  pair_ref: {snapshot: true}\n"), "test2")
	_, err = Resolve(context.Background(), db, m2)
	if err == nil || !strings.Contains(err.Error(), "pair_ref.a: part of a multi-column foreign key") {
		t.Errorf("multi-column FK: got %v", err)
	}
}

// TestCatalogReadsWhatMasterChecksNeed: unique keys in index order, and
// the column details that decide whether a master holds a child's values.
func TestCatalogReadsWhatMasterChecksNeed(t *testing.T) {
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db,
		"CREATE TABLE grp (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb3 NOT NULL,"+
			" title VARCHAR(255) NOT NULL DEFAULT '', amount DECIMAL(12,2) NULL, at DATETIME(3) NULL, body TEXT CHARACTER SET utf8mb4 NULL,"+
			" UNIQUE KEY UI_name (name), UNIQUE KEY UI_title_name (title, name), KEY plain (amount))")
	c, err := loadCatalog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	keys := c.unique["grp"]
	if len(keys) != 2 || keys[0].Name != "UI_name" || strings.Join(keys[1].Columns, ",") != "title,name" {
		t.Errorf("unique keys %+v", keys)
	}
	byName := map[string]Column{}
	for _, col := range c.columns["grp"] {
		byName[col.Name] = col
	}
	for _, tt := range []struct {
		col  string
		want string
	}{
		{"id", "default=true chars=0 precision=10 scale=0"},
		{"name", "default=false charset=utf8mb3 chars=64 bytes=192"},
		{"title", "default=true chars=255"},
		{"amount", "default=true precision=12 scale=2"},
		{"at", "default=true precision=3"},
		{"body", "charset=utf8mb4 chars=65535 bytes=65535"},
	} {
		c := byName[tt.col]
		got := map[string]string{
			"default": fmt.Sprint(c.HasDefault), "charset": c.Charset, "chars": fmt.Sprint(c.MaxChars),
			"bytes": fmt.Sprint(c.MaxBytes), "precision": fmt.Sprint(c.Precision), "scale": fmt.Sprint(c.Scale),
		}
		for _, kv := range strings.Fields(tt.want) {
			k, v, _ := strings.Cut(kv, "=")
			if got[k] != v {
				t.Errorf("%s: %s = %s, want %s", tt.col, k, got[k], v)
			}
		}
	}
}
