package schema

import (
	"context"
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
