//go:build cluster

// The cluster tests run only against a real MariaDB Galera cluster, which
// scripts/test-cluster.sh starts: TRIBUTARY_CLUSTER_DSNS holds one DSN per
// node, and TRIBUTARY_TEST_DSN is node 1 (children live there too).

package cmd

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"tributary/importer"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// clusterNodes returns the nodes' DSNs (no database); the test fails
// without them: these tests exist to run on a cluster.
func clusterNodes(t *testing.T) []string {
	t.Helper()
	nodes := strings.Split(os.Getenv("TRIBUTARY_CLUSTER_DSNS"), ",")
	if len(nodes) < 3 || nodes[0] == "" {
		t.Fatalf("TRIBUTARY_CLUSTER_DSNS must name three nodes (run scripts/test-cluster.sh); got %q", os.Getenv("TRIBUTARY_CLUSTER_DSNS"))
	}
	return nodes
}

// onNode is dsn (a database on node 1) reached through node n (1-based).
func onNode(t *testing.T, dsn string, n int) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	node, err := mysql.ParseDSN(clusterNodes(t)[n-1])
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = node.Addr
	return cfg.FormatDSN()
}

func openDSN(t *testing.T, dsn string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// syncedCount reads a count through node n after the node has applied
// everything the cluster committed before the query.
func syncedCount(t *testing.T, dsn string, n int, query string) int64 {
	t.Helper()
	db := openDSN(t, onNode(t, dsn, n))
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "SET SESSION wsrep_sync_wait = 1"); err != nil {
		t.Fatal(err)
	}
	var v int64
	if err := conn.QueryRowContext(context.Background(), query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// verifyThrough runs verify with the master reached through node n.
func verifyThrough(t *testing.T, childDSN, masterDSN string, n int) {
	t.Helper()
	waitApplied(t, masterDSN, n)
	stdout, stderr, code := execute(t, "verify", "--child-dsn", childDSN, "--master-dsn", onNode(t, masterDSN, n), "--prefix", "nyc", "--map", "civicrm")
	if code != 0 {
		t.Fatalf("verify through node %d: exit %d\n%s%s", n, code, stdout, stderr)
	}
}

// waitApplied returns once node n has applied every write set the cluster
// committed so far (verify reads without wsrep_sync_wait).
func waitApplied(t *testing.T, dsn string, n int) {
	t.Helper()
	syncedCount(t, dsn, n, "SELECT 1")
}

// TestClusterRoundTrip: two children's files imported through node 1 and
// node 2, several incremental rounds, read back exactly through node 3; a
// full resync through node 2 keeps the master IDs.
func TestClusterRoundTrip(t *testing.T) {
	clusterNodes(t)
	nyc, nycDSN := civiDatabase(t, 200)
	_, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	file := exportFile(t, nycDSN, out)
	if _, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 1), "--map", "civicrm", file); code != 0 {
		t.Fatalf("import through node 1: exit %d: %s", code, stderr)
	}
	verifyThrough(t, nycDSN, masterDSN, 3)
	for round := 1; round <= 3; round++ {
		mutate(t, nyc, round)
		file := exportFile(t, nycDSN, out)
		node := 1 + round%2
		if _, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, node), "--map", "civicrm", file); code != 0 {
			t.Fatalf("round %d through node %d: exit %d: %s", round, node, code, stderr)
		}
		verifyThrough(t, nycDSN, masterDSN, 3)
	}
	before := syncedCount(t, masterDSN, 2, "SELECT BIT_XOR(CRC32(CONCAT_WS(',', entity_table, child_entity_id, master_entity_id))) FROM mapping_master_nyc")
	full := exportFile(t, nycDSN, out, "--full")
	if _, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 2), "--map", "civicrm", full); code != 0 {
		t.Fatalf("full resync through node 2: exit %d: %s", code, stderr)
	}
	after := syncedCount(t, masterDSN, 3, "SELECT BIT_XOR(CRC32(CONCAT_WS(',', entity_table, child_entity_id, master_entity_id))) FROM mapping_master_nyc")
	if before != after {
		t.Error("the full resync through node 2 changed the mapping (master IDs not kept)")
	}
	verifyThrough(t, nycDSN, masterDSN, 3)
}

// mutate changes some contacts of a CiviCRM child, as its users would.
func mutate(t *testing.T, child *sqlx.DB, round int) {
	t.Helper()
	dbtest.Exec(t, child,
		fmt.Sprintf("UPDATE civicrm_contact SET first_name = CONCAT('r%d ', IFNULL(first_name, '')), modified_date = NOW() WHERE id %% 7 = %d", round, round%7),
		fmt.Sprintf("UPDATE civicrm_email SET email = CONCAT('r%d.', email) WHERE contact_id %% 11 = %d", round, round%11),
		fmt.Sprintf("UPDATE civicrm_contact SET modified_date = NOW() WHERE id %% 11 = %d", round%11),
	)
	time.Sleep(1100 * time.Millisecond) // the next window ends at a later whole second
}

// outcome is what one import process did with its files.
type outcome struct {
	node   int
	code   int
	stderr string
}

var appliedRE = regexp.MustCompile(`applied prefix nyc sequence (\d+)`)

// TestClusterSamePrefixOnTwoNodes: the same files imported through node 1
// and node 2 at once, round after round. Each file is applied exactly once
// (the ledger), no process reports applying a file it did not apply, a
// loser exits 0 (already applied) or 75 (try again), never 1 or 3, and the
// master reads back exactly (no master row without its mapping).
func TestClusterSamePrefixOnTwoNodes(t *testing.T) {
	clusterNodes(t)
	bin := importBinary(t)
	child, childDSN := civiDatabase(t, 300)
	_, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	var files []string
	for round := 0; round < 6; round++ {
		if round > 0 {
			mutate(t, child, round)
		}
		files = append(files, exportFile(t, childDSN, out))
	}
	for i, file := range files {
		results := importAtOnce(t, bin, []string{file}, []string{file}, masterDSN)
		applied := 0
		for _, r := range results {
			switch r.code {
			case 0, exitcode.Locked:
			default:
				t.Errorf("file %d through node %d: exit %d: %s", i+1, r.node, r.code, r.stderr)
			}
			applied += len(appliedRE.FindAllString(r.stderr, -1))
		}
		// A loser that exits 75 leaves the file for the next run: do it.
		if applied == 0 {
			if _, stderr, code := runProcess(t, bin, "import", "--dsn", onNode(t, masterDSN, 3), "--map", "civicrm", file); code != 0 {
				t.Fatalf("file %d, the next run: exit %d: %s", i+1, code, stderr)
			}
			applied = 1
		}
		if applied != 1 {
			t.Errorf("file %d: %d processes say they applied it", i+1, applied)
		}
	}
	if n := syncedCount(t, masterDSN, 3, "SELECT COUNT(*) FROM tributary_ledger WHERE prefix = 'nyc'"); n != int64(len(files)) {
		t.Errorf("the ledger lists %d files, want %d (each exactly once)", n, len(files))
	}
	orphans := syncedCount(t, masterDSN, 3, `SELECT COUNT(*) FROM civicrm_contact c
		LEFT JOIN mapping_master_nyc m ON m.entity_table = 'civicrm_contact' AND m.master_entity_id = c.id WHERE m.master_entity_id IS NULL`)
	if orphans != 0 {
		t.Errorf("%d master contacts that no mapping points to", orphans)
	}
	verifyThrough(t, childDSN, masterDSN, 3)
}

// TestClusterConsecutiveFilesSplit: file k through node 1, and while that
// import runs, file k+1 through node 2. k+1 must never be rejected (exit
// 3, which would move a sound file to failed/) because node 2 did not yet
// see k: it is applied after k, or left for the next run (75).
func TestClusterConsecutiveFilesSplit(t *testing.T) {
	clusterNodes(t)
	bin := importBinary(t)
	child, childDSN := civiDatabase(t, 300)
	_, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	first := exportFile(t, childDSN, out)
	if _, stderr, code := runProcess(t, bin, "import", "--dsn", onNode(t, masterDSN, 1), "--map", "civicrm", first); code != 0 {
		t.Fatalf("first file: exit %d: %s", code, stderr)
	}
	for round := 1; round <= 5; round++ {
		mutate(t, child, round)
		k := exportFile(t, childDSN, out)
		mutate(t, child, round+10)
		next := exportFile(t, childDSN, out)
		results := importWhileImporting(t, bin, k, next, masterDSN)
		for _, r := range results {
			if r.code != 0 && r.code != exitcode.Locked {
				t.Errorf("round %d through node %d: exit %d: %s", round, r.node, r.code, r.stderr)
			}
		}
		// whatever was left: the next runs apply it, in order
		for _, f := range []string{k, next} {
			if _, stderr, code := runProcess(t, bin, "import", "--dsn", onNode(t, masterDSN, 3), "--map", "civicrm", f); code != 0 {
				t.Fatalf("round %d: the next run of %s: exit %d: %s", round, f, code, stderr)
			}
		}
	}
	verifyThrough(t, childDSN, masterDSN, 3)
}

// importWhileImporting imports first through node 1 and, once that import
// is under way (it holds the prefix's lock on node 1) or has ended, second
// through node 2.
func importWhileImporting(t *testing.T, bin, first, second, masterDSN string) []outcome {
	t.Helper()
	node1 := openDSN(t, onNode(t, masterDSN, 1))
	lock := importer.LockName(masterDatabaseName(t, node1), "nyc")
	p := startProcess(t, bin, "import", "--dsn", onNode(t, masterDSN, 1), "--map", "civicrm", first)
	deadline := time.Now().Add(60 * time.Second)
	for !p.exited() && dbtest.LockHolder(t, node1, lock) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first import never took the prefix's lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, stderr, code := runProcess(t, bin, "import", "--dsn", onNode(t, masterDSN, 2), "--map", "civicrm", second)
	firstCode := p.wait(t)
	return []outcome{{node: 1, code: firstCode, stderr: p.stderr.String()}, {node: 2, code: code, stderr: stderr}}
}

// importAtOnce starts an import of files1 through node 1 and one of files2
// through node 2 at the same moment and waits for both.
func importAtOnce(t *testing.T, bin string, files1, files2 []string, masterDSN string) []outcome {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]outcome, 2)
	start := make(chan struct{})
	for i, files := range [][]string{files1, files2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			args := append([]string{"import", "--dsn", onNode(t, masterDSN, i+1), "--map", "civicrm"}, files...)
			_, stderr, code := runProcess(t, bin, args...)
			results[i] = outcome{node: i + 1, code: code, stderr: stderr}
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// TestClusterWriteSetLimit: a file larger than the cluster's write-set
// limit (wsrep_max_ws_rows) is applied, or refused cleanly: exit 1, the
// master unchanged, and the message names the setting.
func TestClusterWriteSetLimit(t *testing.T) {
	nodes := clusterNodes(t)
	_, childDSN := civiDatabase(t, 300)
	master, masterDSN := civiDatabase(t, 0)
	file := exportFile(t, childDSN, t.TempDir())
	var limits []*sqlx.DB
	for n := range nodes {
		db := openDSN(t, onNode(t, masterDSN, n+1))
		limits = append(limits, db)
		if _, err := db.Exec("SET GLOBAL wsrep_max_ws_rows = 1000"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, db := range limits {
			db.Exec("SET GLOBAL wsrep_max_ws_rows = 0")
		}
	})
	before := dbtest.Checksums(t, master)
	_, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 2), "--map", "civicrm", file)
	t.Logf("exit %d: %s", code, stderr)
	switch code {
	case 0:
		verifyThrough(t, childDSN, masterDSN, 3)
	case exitcode.Failure:
		if !strings.Contains(stderr, "wsrep_max_ws_rows") {
			t.Errorf("the message does not name the setting: %s", stderr)
		}
		waitApplied(t, masterDSN, 1)
		dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))
	default:
		t.Fatalf("exit %d, want 0 or 1: %s", code, stderr)
	}
}

// TestClusterLease: the prefix's lease is seen on every node. A live lease
// of another import (taken through node 2) keeps node 1's import out with
// exit 75 and its holder named; an expired one is taken over; a finished
// import leaves no lease behind.
func TestClusterLease(t *testing.T) {
	clusterNodes(t)
	_, childDSN := civiDatabase(t, 20)
	_, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	if _, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 1), "--map", "civicrm", exportFile(t, childDSN, out)); code != 0 {
		t.Fatalf("first import: exit %d: %s", code, stderr)
	}
	if n := syncedCount(t, masterDSN, 3, "SELECT COUNT(*) FROM tributary_leases"); n != 0 {
		t.Fatalf("%d leases left after the import ended", n)
	}
	node2 := openDSN(t, onNode(t, masterDSN, 2))
	waitApplied(t, masterDSN, 2)
	dbtest.Exec(t, node2, `REPLACE INTO tributary_leases (prefix, holder, taken_at, expires_at)
		VALUES ('nyc', 'import pid 1 on elsewhere', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1 HOUR)`)
	waitApplied(t, masterDSN, 1)
	file := exportFile(t, childDSN, out)
	_, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 1), "--map", "civicrm", file)
	if code != exitcode.Locked || !strings.Contains(stderr, "import pid 1 on elsewhere") {
		t.Fatalf("import while another holds the lease: exit %d: %s", code, stderr)
	}
	dbtest.Exec(t, node2, `UPDATE tributary_leases SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND`)
	waitApplied(t, masterDSN, 3)
	if _, stderr, code := execute(t, "import", "--dsn", onNode(t, masterDSN, 3), "--map", "civicrm", file); code != 0 {
		t.Fatalf("import after the lease expired: exit %d: %s", code, stderr)
	}
	verifyThrough(t, childDSN, masterDSN, 2)
}
