package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// TestVerify: nothing on equal data (exit 0); then one difference of each
// kind, listed by table, IDs, kind and column names, never by value (exit 1).
func TestVerify(t *testing.T) {
	child, childDSN := civiDatabase(t, 30)
	master, masterDSN := civiDatabase(t, 0)
	file := exportFile(t, childDSN, t.TempDir())
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", file); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	args := []string{"verify", "--child-dsn", childDSN, "--master-dsn", masterDSN, "--prefix", "nyc", "--map", "civicrm"}
	stdout, stderr, code := execute(t, args...)
	if code != 0 || !strings.Contains(stdout, "prefix nyc: the master holds exactly the child's rows") {
		t.Fatalf("equal: exit %d: %s%s", code, stdout, stderr)
	}

	var contact, email, phone, masterContact, masterEmail int64
	mustGet(t, child, &contact, "SELECT MIN(id) FROM civicrm_contact WHERE contact_type = 'Individual'")
	mustGet(t, child, &email, "SELECT MIN(id) FROM civicrm_email")
	mustGet(t, child, &phone, "SELECT MIN(id) FROM civicrm_phone")
	mustGet(t, master, &masterContact, "SELECT master_entity_id FROM mapping_master_nyc WHERE entity_table = 'civicrm_contact' AND child_entity_id = ?", contact)
	mustGet(t, master, &masterEmail, "SELECT master_entity_id FROM mapping_master_nyc WHERE entity_table = 'civicrm_email' AND child_entity_id = ?", email)
	dbtest.Exec(t, master,
		"UPDATE civicrm_contact SET first_name = 'Secretvalue', nick_name = 'Othersecret', modified_date = modified_date WHERE id = "+itoa(masterContact),
		"DELETE FROM civicrm_email WHERE id = "+itoa(masterEmail))
	// CiviCRM's triggers move the phone's contact's modified_date on the
	// child: that contact differs too, in that column.
	dbtest.Exec(t, child, "DELETE FROM civicrm_phone WHERE id = "+itoa(phone))
	// A tag of a contact deleted by plain SQL stays behind on the child;
	// export never sends such an orphan, so it is no difference.
	dbtest.Exec(t, child, "INSERT INTO civicrm_entity_tag (entity_table, entity_id, tag_id) SELECT 'civicrm_contact', 999999, MIN(id) FROM civicrm_tag")

	stdout, stderr, code = execute(t, args...)
	if code != exitcode.Failure {
		t.Fatalf("differences: exit %d, want 1: %s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"TABLE", "CHILD ID", "MASTER ID", "DIFFERENCE",
		"civicrm_contact  " + itoa(contact), "changed: first_name, nick_name",
		"civicrm_email", "missing",
		"civicrm_phone", "extra",
		"changed: modified_date",
		"4 differences (1 missing, 1 extra, 2 changed)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "ecret") {
		t.Errorf("verify printed a value:\n%s%s", stdout, stderr)
	}

	stdout, _, code = execute(t, append(args, "--json")...)
	var doc struct {
		FormatVersion int            `json:"format_version"`
		Prefix        string         `json:"prefix"`
		Equal         bool           `json:"equal"`
		Seconds       float64        `json:"seconds"`
		Counts        map[string]int `json:"counts"`
		Total         int64          `json:"total"`
		Truncated     bool           `json:"truncated"`
		TableCounts   []struct {
			Table string `json:"table"`
			Kind  string `json:"kind"`
			Rows  int64  `json:"rows"`
		} `json:"table_counts"`
		Differences []struct {
			Table    string   `json:"table"`
			ChildID  *int64   `json:"child_id"`
			MasterID *int64   `json:"master_id"`
			Key      string   `json:"key"`
			Kind     string   `json:"kind"`
			Columns  []string `json:"columns"`
		} `json:"differences"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil || code != exitcode.Failure {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, stdout)
	}
	if doc.FormatVersion != 1 || doc.Equal || doc.Counts["changed"] != 2 || len(doc.Differences) != 4 || doc.Total != 4 || doc.Truncated || len(doc.TableCounts) != 3 {
		t.Errorf("--json document: %s", stdout)
	}
	for _, d := range doc.Differences {
		if d.Table == "civicrm_contact" && *d.ChildID == contact && (d.Kind != "changed" || *d.MasterID != masterContact || !strings.HasPrefix(strings.Join(d.Columns, ","), "first_name,nick_name")) {
			t.Errorf("contact difference: %+v", d)
		}
	}

	// --max-report 1: one difference listed, the counts cover all four.
	stdout, _, code = execute(t, append(args, "--max-report", "1")...)
	if code != exitcode.Failure {
		t.Fatalf("--max-report 1: exit %d", code)
	}
	listed := 0
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, "missing") || strings.Contains(line, "extra") || strings.Contains(line, "changed:") {
			if !strings.HasPrefix(line, "prefix nyc:") {
				listed++
			}
		}
	}
	for _, want := range []string{
		"... and 3 more (--max-report 1",
		"TABLE            MISSING  EXTRA  CHANGED",
		"civicrm_contact  0        0      2",
		"civicrm_email    1        0      0",
		"civicrm_phone    0        1      0",
		"prefix nyc: 4 differences (1 missing, 1 extra, 2 changed)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--max-report 1 output lacks %q:\n%s", want, stdout)
		}
	}
	if listed != 1 {
		t.Errorf("--max-report 1 listed %d differences:\n%s", listed, stdout)
	}
	stdout, _, _ = execute(t, append(args, "--max-report", "1", "--json")...)
	doc.Differences, doc.TableCounts = nil, nil
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Differences) != 1 || !doc.Truncated || doc.Total != 4 || doc.Counts["missing"] != 1 || len(doc.TableCounts) != 3 {
		t.Errorf("--max-report 1 --json: %v:\n%s", err, stdout)
	}
}

// TestVerifyConnectionsFromEnvironmentAndOptionFiles: each side's DSN may
// come from its environment variable or its option file.
func TestVerifyConnectionsFromEnvironmentAndOptionFiles(t *testing.T) {
	_, childDSN := civiDatabase(t, 3)
	_, masterDSN := civiDatabase(t, 0)
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", exportFile(t, childDSN, t.TempDir())); code != 0 {
		t.Fatal(stderr)
	}
	t.Setenv("TRIBUTARY_CHILD_DSN", childDSN)
	t.Setenv("TRIBUTARY_MASTER_DSN", masterDSN)
	if stdout, stderr, code := execute(t, "verify", "--prefix", "nyc", "--map", "civicrm"); code != 0 {
		t.Errorf("from the environment: exit %d: %s%s", code, stdout, stderr)
	}
	t.Setenv("TRIBUTARY_MASTER_DSN", "")
	cfg := dbtest.ServerConfig(t)
	host, port, _ := strings.Cut(cfg.Addr, ":")
	var dbName string
	if i := strings.LastIndex(masterDSN, "/"); i >= 0 {
		dbName, _, _ = strings.Cut(masterDSN[i+1:], "?")
	}
	cnf := filepath.Join(t.TempDir(), "master.cnf")
	content := "[client]\nuser=" + cfg.User + "\npassword=" + cfg.Passwd + "\nhost=" + host + "\nport=" + port + "\ndatabase=" + dbName + "\n"
	if err := os.WriteFile(cnf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := execute(t, "verify", "--prefix", "nyc", "--map", "civicrm", "--master-defaults-file", cnf); code != 0 {
		t.Errorf("from an option file: exit %d: %s%s", code, stdout, stderr)
	}
	_, stderr, code := execute(t, "verify", "--prefix", "sf", "--map", "civicrm", "--master-defaults-file", cnf)
	if code != exitcode.Usage || !strings.Contains(stderr, "no rows of prefix sf") {
		t.Errorf("unknown prefix: exit %d: %s", code, stderr)
	}
}
