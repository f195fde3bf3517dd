#!/usr/bin/env bash
# scripts/bench.sh [CONTACTS]: tributary's export and import against the
# tools people use instead (mysqldump, mysqldump | mysql, LOAD DATA), on
# the same generated CiviCRM rows, in one run, and one table of medians and
# ratios at the end. Ratios are what we track: absolute times depend on the
# machine and on whatever else it is doing.
#
#   CONTACTS            contacts to generate (default 100000, about 10.7 rows
#                       each, so about 1M rows); 2000 makes a quick smoke run
#   TRIBUTARY_BENCH_DSN go-sql-driver DSN of a server to use, without a
#                       database (root@tcp(127.0.0.1:3306)/); without it a
#                       throwaway MariaDB is started and removed at the end
#   BENCH_REPS          repetitions of each measurement (default 3; medians)
#   BENCH_REFERENCE_ONLY=1  measure only the references (while tributary's
#                       export or import is unavailable)
#   BENCH_MEMORY=1      the memory run: one full export and one full import
#                       of CONTACTS contacts (470000 makes about 5M rows), no
#                       references, and peak RSS against the 150 MB target
#
# Everything it creates (databases named bench_<pid>_*, a temporary
# directory) is removed on exit, Ctrl-C included. Not part of
# scripts/test.sh: a default run takes many minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mariadb.sh
source scripts/lib/bench_util.sh

CONTACTS=${1:-100000}
REPS=${BENCH_REPS:-3}
REFERENCE_ONLY=${BENCH_REFERENCE_ONLY:-0}
MEMORY_ONLY=${BENCH_MEMORY:-0}
PREFIX=bench             # the child prefix in sync files
DB="bench_$$"            # every scratch database starts with this
CREATED_DBS=()
STARTED_SERVER=0

usage() {
	sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# --- setup and cleanup ------------------------------------------------------

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ "${#CREATED_DBS[@]}" -gt 0 ] && [ -n "${CNF:-}" ] && [ -f "$CNF" ]; then
		local db
		for db in "${CREATED_DBS[@]}"; do
			"$MYSQL" --defaults-file="$CNF" -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
		done
	fi
	[ "$STARTED_SERVER" = 1 ] && mariadb_stop
	[ -n "${BENCH_WORK:-}" ] && rm -rf "$BENCH_WORK"
	exit "$status"
}

# The server: the configured one, or a throwaway. mariadb_start installs
# its own traps; ours replace them and call mariadb_stop themselves.
start_server() {
	if [ -n "${TRIBUTARY_BENCH_DSN:-}" ]; then
		BASE_DSN=$TRIBUTARY_BENCH_DSN
		SERVER_DESC="configured server (TRIBUTARY_BENCH_DSN)"
	else
		mariadb_start
		STARTED_SERVER=1
		BENCH_SERVER_PID=$MARIADB_PID # its CPU time goes into the second table
		BASE_DSN=$MARIADB_DSN
		SERVER_DESC="throwaway MariaDB started by bench.sh"
	fi
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	CNF="$BENCH_WORK/client.cnf"
	bench_client_config "$BASE_DSN" "$CNF"
	sql -e 'SELECT 1' >/dev/null
}

# /usr/bin/time gives the peak RSS; Debian's "time" package has it.
need_time() {
	[ -x /usr/bin/time ] && return 0
	if [ "$(id -u)" = 0 ]; then
		echo "== installing Debian's time package (for /usr/bin/time)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2 ||
			{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
	else
		echo "bench: /usr/bin/time is missing: apt-get install time" >&2
		return 1
	fi
}

find_clients() {
	MYSQL=$(command -v mariadb || command -v mysql) ||
		{ echo "bench: no mariadb/mysql client" >&2; return 1; }
	MYSQLDUMP=$(command -v mariadb-dump || command -v mysqldump) ||
		{ echo "bench: no mariadb-dump/mysqldump" >&2; return 1; }
}

sql() { "$MYSQL" --defaults-file="$CNF" "$@"; }

build() {
	echo "== building tributary and civgen" >&2
	go build -o "$BENCH_WORK/tributary" .
	go build -o "$BENCH_WORK/civgen" ./testdata/civicrm/cmd/civgen
	TRIB="$BENCH_WORK/tributary"
	CIVGEN="$BENCH_WORK/civgen"
}

# The synced tables are the map's "tables:" keys; shared tables are
# configuration that every database already holds, so they are not dumped
# by the references either.
synced_tables() {
	awk '/^tables:/ { on = 1; next } /^[^ #]/ { on = 0 }
		on && /^  [a-z0-9_]+:/ { sub(/^  /, ""); sub(/:.*/, ""); print }' schema/presets/civicrm.yaml
}

# new_db NAME [civgen args...]: (re)create database NAME with the CiviCRM
# schema (tables, triggers, seed rows); extra arguments generate contacts.
new_db() {
	local name=$1
	shift
	[[ " ${CREATED_DBS[*]} " == *" $name "* ]] || CREATED_DBS+=("$name")
	sql -e "DROP DATABASE IF EXISTS \`$name\`; CREATE DATABASE \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	"$CIVGEN" --dsn "$(bench_dsn_for "$BASE_DSN" "$name")" --create-schema --contacts "${1:-0}" "${@:2}" 2>"$BENCH_WORK/civgen.err" ||
		{ cat "$BENCH_WORK/civgen.err" >&2; return 1; }
}

# count_rows DB: rows in the synced tables of DB.
count_rows() {
	local db=$1 q="" t
	for t in "${TABLES[@]}"; do q+="${q:+ + }(SELECT COUNT(*) FROM \`$db\`.\`$t\`)"; done
	sql -N -e "SELECT $q"
}

# records_in FILE: the record count from a sync file's trailer.
records_in() { gzip -dcf "$1" | tail -n 1 | sed -n 's/.*"records":\([0-9]*\).*/\1/p'; }

# check_window FILE: warn when an incremental file's window is empty. Export
# ends the window no later than the start of the oldest transaction open
# on the server (any database's), so on a shared server someone else's long
# transaction can hold it back, and the run would time a file without the
# changes.
check_window() {
	local header since until
	# head stops reading after one line: gzip then dies of SIGPIPE, which
	# pipefail would turn into a failure of the whole run.
	header=$({ gzip -dcf "$1" || true; } | head -n 1)
	since=$(sed -n 's/.*"since":"\([^"]*\)".*/\1/p' <<<"$header")
	until=$(sed -n 's/.*"until":"\([^"]*\)".*/\1/p' <<<"$header")
	if [ "$since" = "$until" ]; then
		echo "bench: warning: $(basename "$1") has an empty window [$since, $until): a transaction open on the server holds it back; these incremental numbers do not measure the changes" >&2
		EMPTY_WINDOWS=$((${EMPTY_WINDOWS:-0} + 1))
	fi
}

describe_machine() {
	local v
	v=$(sql -N -e "SELECT CONCAT(VERSION(), ', innodb_buffer_pool_size=', @@innodb_buffer_pool_size DIV 1048576, 'M',
		', innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit,
		', max_allowed_packet=', @@max_allowed_packet DIV 1048576, 'M', ', log_bin=', @@log_bin)")
	MACHINE="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM; $SERVER_DESC: $v"
}

# --- the reference commands ---------------------------------------------------

# dump_cmd DB: the reference export, as an array in DUMP.
dump_cmd() {
	DUMP=("$MYSQLDUMP" --defaults-file="$CNF" --single-transaction --quick --no-create-info
		--skip-triggers "$1" "${TABLES[@]}")
}

# OUTFILE_DIR is written by the server itself (SELECT ... INTO OUTFILE), so
# it only works when the server runs on this machine and may write there.
outfile_possible() {
	OUTFILE_DIR="$BENCH_WORK/outfile"
	mkdir -p "$OUTFILE_DIR"
	chmod 711 "$BENCH_WORK"
	chmod 1777 "$OUTFILE_DIR"
	sql -e "SELECT 1 INTO OUTFILE '$OUTFILE_DIR/probe'" 2>/dev/null && [ -f "$OUTFILE_DIR/probe" ] &&
		rm -f "$OUTFILE_DIR/probe"
}

# write_outfile_sql DB: the statements that write each synced table of DB
# to a tab-separated file, in one consistent snapshot like mysqldump's.
write_outfile_sql() {
	local t
	{
		echo "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;"
		echo "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;"
		for t in "${TABLES[@]}"; do
			echo "SELECT * FROM \`$1\`.\`$t\` INTO OUTFILE '$OUTFILE_DIR/$t.tsv' CHARACTER SET utf8mb4;"
		done
		echo "COMMIT;"
	} >"$BENCH_WORK/outfile.sql"
	{
		# Like mysqldump's output: no key checks while loading.
		echo "SET foreign_key_checks = 0, unique_checks = 0;"
		for t in "${TABLES[@]}"; do
			echo "LOAD DATA LOCAL INFILE '$OUTFILE_DIR/$t.tsv' INTO TABLE \`$t\` CHARACTER SET utf8mb4;"
		done
	} >"$BENCH_WORK/loaddata.sql"
}

# run_sql_file FILE DB [client options...]: a command line that feeds FILE
# to the client (bench_measure needs an executable, not a redirection).
run_sql_file() {
	local file=$1 db=$2
	shift 2
	RUN=(bash -c 'f=$1; shift; exec "$@" <"$f"' _ "$file" "$MYSQL" --defaults-file="$CNF" "$@" "$db")
}

# --- the measurements ------------------------------------------------------

# Each repetition runs tributary and the references back to back; odd
# repetitions start with tributary, even ones with the references, so
# neither side always gets the warmer cache.
tributary_first() { (($1 % 2 == 1)); }

# 1. Full export: tributary --full vs mysqldump (plain and gzip -1, since
# our files are gzip'd) and SELECT ... INTO OUTFILE.
bench_full_export() {
	local child="${DB}_child" rep
	echo "== full export of $ROWS rows, $REPS times" >&2
	OUT="$BENCH_WORK/out"
	mkdir -p "$OUT"
	dump_cmd "$child"
	for rep in $(seq 1 "$REPS"); do
		if tributary_first "$rep"; then
			full_export_tributary "$child"
			full_export_references
		else
			full_export_references
			full_export_tributary "$child"
		fi
	done
	SIZES="tributary $(size_mb "${FULL_FILE:-}") MB (gzip), mysqldump $(size_mb "$BENCH_WORK/dump.sql") MB, gzip -1 $(size_mb "$BENCH_WORK/dump.sql.gz") MB"
}

size_mb() { if [ -n "$1" ] && [ -f "$1" ]; then du -m "$1" | cut -f1; else echo -; fi; }

full_export_tributary() {
	[ "$REFERENCE_ONLY" = 1 ] && return 0
	local previous=${FULL_FILE:-}
	bench_measure "export full" "$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "$1")" --prefix "$PREFIX" \
		--map civicrm --out "$OUT" --full >"$BENCH_WORK/stdout"
	FULL_FILE=$(tail -n 1 "$BENCH_WORK/stdout")
	# Keep only the newest file: the state file now points after it.
	[ -n "$previous" ] && [ "$previous" != "$FULL_FILE" ] && rm -f "$previous"
	return 0
}

full_export_references() {
	bench_measure "mysqldump" "${DUMP[@]}" --result-file="$BENCH_WORK/dump.sql"
	bench_measure "mysqldump|gzip" bash -c 'set -o pipefail; out=$1; shift; "$@" | gzip -1 >"$out"' \
		_ "$BENCH_WORK/dump.sql.gz" "${DUMP[@]}"
	if [ "$HAVE_OUTFILE" = 1 ]; then
		rm -f "$OUTFILE_DIR"/*.tsv # INTO OUTFILE never overwrites
		run_sql_file "$BENCH_WORK/outfile.sql" "${DB}_child"
		bench_measure "into outfile" "${RUN[@]}"
	fi
}

# 2. Full import into an empty master: tributary (mapping every ID) vs
# mysqldump | mysql, vs loading the dump file alone, vs LOAD DATA. Each run
# gets a freshly created empty master, outside the timed part.
bench_full_import() {
	local rep
	echo "== full import of $ROWS rows into an empty master, $REPS times" >&2
	for rep in $(seq 1 "$REPS"); do
		if tributary_first "$rep"; then
			full_import_tributary
			full_import_references
		else
			full_import_references
			full_import_tributary
		fi
	done
}

full_import_tributary() {
	[ "$REFERENCE_ONLY" = 1 ] && return 0
	new_db "${DB}_master"
	bench_measure "import full" "$TRIB" import --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_master")" \
		--map civicrm "$FULL_FILE" >/dev/null
	MASTER_ROWS=$(count_rows "${DB}_master")
}

full_import_references() {
	local ref="${DB}_ref"
	new_db "$ref"
	bench_measure "mysqldump|mysql" bash -c 'set -o pipefail; db=$1 client=$2 cnf=$3; shift 3
		"$@" | "$client" --defaults-file="$cnf" "$db"' _ "$ref" "$MYSQL" "$CNF" "${DUMP[@]}"
	check_rows "$ref" "mysqldump|mysql"
	new_db "$ref"
	run_sql_file "$BENCH_WORK/dump.sql" "$ref"
	bench_measure "mysql<dump.sql" "${RUN[@]}"
	check_rows "$ref" "mysql < dump.sql"
	if [ "$HAVE_OUTFILE" = 1 ]; then
		new_db "$ref"
		run_sql_file "$BENCH_WORK/loaddata.sql" "$ref" --local-infile=1
		bench_measure "load data" "${RUN[@]}"
		check_rows "$ref" "LOAD DATA"
	fi
}

# 2a. Resync: a full file onto the master that already holds the child's
# rows (the last full import's), with nothing changed and with 1% of the
# contacts changed (civgen --mutate 0.01). Each run imports a new full
# export (not timed): a file already applied would be skipped. Compared
# with loading the dump into an empty database (mysql < dump.sql), the
# cheapest way to make a copy equal again.
bench_resync() {
	[ "$REFERENCE_ONLY" = 1 ] && return 0
	local rep file
	echo "== resync: full files onto a master holding the child's rows, $REPS times" >&2
	for rep in $(seq 1 "$REPS"); do
		file=$(resync_export)
		bench_measure "resync unchanged" "$TRIB" import --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_master")" \
			--map civicrm "$file" >/dev/null
		rm -f "$file"
		"$CIVGEN" --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_child")" --mutate 0.01 --seed "$((200 + rep))" \
			2>"$BENCH_WORK/civgen.err" || { cat "$BENCH_WORK/civgen.err" >&2; return 1; }
		file=$(resync_export)
		RESYNC_RECORDS+="$(records_in "$file") "
		bench_measure "resync 1%" "$TRIB" import --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_master")" \
			--map civicrm "$file" >/dev/null
		rm -f "$file"
	done
}

# resync_export: a full export of the big child into its stream (not
# timed); prints the file's path.
resync_export() {
	"$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_child")" --prefix "$PREFIX" \
		--map civicrm --out "$OUT" --full 2>"$BENCH_WORK/last.err" | tail -n 1 ||
		{ cat "$BENCH_WORK/last.err" >&2; return 1; }
}

# A reference that silently loaded less would flatter it.
check_rows() {
	local n
	n=$(count_rows "$1")
	[ "$n" = "$ROWS" ] || { echo "bench: $2 loaded $n rows, the child has $ROWS" >&2; return 1; }
}

# 3. Incremental export + import after a change, at two sizes with the
# same number of changed contacts: the small child (CONTACTS/10) changes
# 10%, the big one 1%. If cost follows the changes, both take the same
# time; if it follows the table size, the big one takes 10 times as long.
bench_incremental() {
	[ "$REFERENCE_ONLY" = 1 ] && return 0
	local small=$((CONTACTS / 10)) rep size
	echo "== incremental: $((CONTACTS / 100)) changed contacts at $small and at $CONTACTS contacts, $REPS times" >&2
	# The big child and master are the full run's: the state file beside
	# the newest full file continues that stream. The small pair gets its
	# own full sync first (not timed).
	new_db "${DB}_small" "$small" --seed 2
	new_db "${DB}_small_master"
	mkdir -p "$BENCH_WORK/out_small"
	local file
	file=$("$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_small")" --prefix "${PREFIX}_small" \
		--map civicrm --out "$BENCH_WORK/out_small" --full 2>"$BENCH_WORK/last.err" | tail -n 1) ||
		{ cat "$BENCH_WORK/last.err" >&2; return 1; }
	"$TRIB" import --dsn "$(bench_dsn_for "$BASE_DSN" "${DB}_small_master")" --map civicrm "$file" >/dev/null
	rm -f "$file"
	for rep in $(seq 1 "$REPS"); do
		for size in $(if tributary_first "$rep"; then echo big small; else echo small big; fi); do
			if [ "$size" = big ]; then
				incremental_run big "${DB}_child" "${DB}_master" "$PREFIX" "$OUT" 0.01 "$rep"
			else
				incremental_run small "${DB}_small" "${DB}_small_master" "${PREFIX}_small" "$BENCH_WORK/out_small" 0.1 "$rep"
			fi
		done
	done
}

# incremental_run SIZE CHILD MASTER PREFIX OUTDIR FRACTION REP
incremental_run() {
	local size=$1 child=$2 master=$3 prefix=$4 out=$5 fraction=$6 rep=$7 file
	"$CIVGEN" --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" --mutate "$fraction" --seed "$((100 + rep))" \
		2>"$BENCH_WORK/civgen.err" || { cat "$BENCH_WORK/civgen.err" >&2; return 1; }
	# The export window ends --lag before the database's NOW(): wait until
	# the changes are older than that, or the file would miss them.
	sleep 2
	bench_measure "export incr $size" "$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" \
		--prefix "$prefix" --map civicrm --out "$out" --lag 1s >"$BENCH_WORK/stdout"
	file=$(tail -n 1 "$BENCH_WORK/stdout")
	check_window "$file"
	INCR_RECORDS[$size]+="$(records_in "$file") "
	bench_measure "import incr $size" "$TRIB" import --dsn "$(bench_dsn_for "$BASE_DSN" "$master")" \
		--map civicrm "$file" >/dev/null
	rm -f "$file"
}

# 4. What detect: checksum costs. The digests of every synced row (what an
# audit of every table would cost, per ROWS rows), and the incremental
# export of the big child with the preset (its checksum tables hashed)
# against the same export with a map that has no detect: checksum (the
# preset as resolved on this database, detect lines removed), over the
# same changes. The plain map keeps its own state beside its own files.
bench_checksum() {
	[ "$REFERENCE_ONLY" = 1 ] && return 0
	local child="${DB}_child" plain="$BENCH_WORK/out_plain" map="$BENCH_WORK/plain.yaml" rep file
	echo "== detect: checksum: digests of $ROWS rows, and the incremental export with and without it, $REPS times" >&2
	write_digest_sql "$child"
	"$TRIB" check --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" --map civicrm --show-map 2>"$BENCH_WORK/last.err" |
		sed -e '/^ *detect: checksum$/d' >"$map" || { cat "$BENCH_WORK/last.err" >&2; return 1; }
	mkdir -p "$plain"
	"$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" --prefix "$PREFIX" --map "$map" --out "$plain" \
		--full >/dev/null 2>"$BENCH_WORK/last.err" || { cat "$BENCH_WORK/last.err" >&2; return 1; }
	rm -f "$plain"/*.jsonl*
	for rep in $(seq 1 "$REPS"); do
		bench_measure "digest all rows" bash -c '"$1" --defaults-file="$2" "$3" <"$4" >/dev/null' _ \
			"$MYSQL" "$CNF" "$child" "$BENCH_WORK/digest.sql"
		"$CIVGEN" --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" --mutate 0.01 --seed "$((200 + rep))" \
			2>"$BENCH_WORK/civgen.err" || { cat "$BENCH_WORK/civgen.err" >&2; return 1; }
		sleep 2
		bench_measure "export incr no checksum" "$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" \
			--prefix "$PREFIX" --map "$map" --out "$plain" --lag 1s >/dev/null
		bench_measure "export incr checksum" "$TRIB" export --dsn "$(bench_dsn_for "$BASE_DSN" "$child")" \
			--prefix "$PREFIX" --map civicrm --out "$OUT" --lag 1s >"$BENCH_WORK/stdout"
		file=$(tail -n 1 "$BENCH_WORK/stdout")
		CHECKSUM_RECORDS+="$(records_in "$file") "
		rm -f "$file" "$plain"/*.jsonl*
	done
}

# write_digest_sql DB: one statement per synced table computing its rows'
# digest as export does (database.RowHash: BIT_XOR of 64 bits of MD5 over
# CONCAT_WS of QUOTEd values), into $BENCH_WORK/digest.sql.
write_digest_sql() {
	local db=$1 t cols
	: >"$BENCH_WORK/digest.sql"
	for t in "${TABLES[@]}"; do
		cols=$(sql -N -e "SELECT GROUP_CONCAT(CONCAT('QUOTE(CAST(\`', COLUMN_NAME, '\` AS BINARY))') ORDER BY ORDINAL_POSITION SEPARATOR ', ')
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = '$t'")
		echo "SELECT COUNT(*), COALESCE(BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS(',', $cols)), 16), 16, 10) AS UNSIGNED)), 0) FROM \`$t\`;" >>"$BENCH_WORK/digest.sql"
	done
}

# --- the report -----------------------------------------------------------------

report() {
	local small=$((CONTACTS / 10)) rs rb
	rs=$(bench_median "${INCR_RECORDS[small]:-}" 2>/dev/null || echo -)
	rb=$(bench_median "${INCR_RECORDS[big]:-}" 2>/dev/null || echo -)
	bench_row "full export" "$ROWS" "export full" "mysqldump > file" "mysqldump"
	bench_row "full export" "$ROWS" "export full" "mysqldump | gzip -1 > file" "mysqldump|gzip"
	bench_row "full export" "$ROWS" "export full" "SELECT INTO OUTFILE" "into outfile"
	bench_row "full import" "$ROWS" "import full" "mysqldump | mysql" "mysqldump|mysql"
	bench_row "full import" "$ROWS" "import full" "mysql < dump.sql" "mysql<dump.sql"
	bench_row "full import" "$ROWS" "import full" "LOAD DATA LOCAL INFILE" "load data"
	bench_row "resync, nothing changed" "$ROWS" "resync unchanged" "mysql < dump.sql" "mysql<dump.sql"
	bench_row "resync, 1% changed" "$ROWS" "resync 1%" "mysql < dump.sql" "mysql<dump.sql"
	bench_row "incr export, $small contacts" "$rs" "export incr small" "-" ""
	bench_row "incr import, $small contacts" "$rs" "import incr small" "-" ""
	bench_row "incr export, $CONTACTS contacts" "$rb" "export incr big" "same changes at $small contacts" "export incr small"
	bench_row "incr import, $CONTACTS contacts" "$rb" "import incr big" "same changes at $small contacts" "import incr small"
	bench_row "digests of every synced row" "$ROWS" "digest all rows" "-" ""
	bench_row "incr export, checksum" "$(bench_median "${CHECKSUM_RECORDS:-}" 2>/dev/null || echo -)" "export incr checksum" "without detect: checksum" "export incr no checksum"

	echo
	echo "tributary bench: $CONTACTS contacts, $ROWS rows in ${#TABLES[@]} synced tables, median of $REPS runs"
	echo "machine: $MACHINE"
	[ -n "${SIZES:-}" ] && echo "files: $SIZES"
	[ -n "${MASTER_ROWS:-}" ] && echo "rows on the master after tributary's full import: $MASTER_ROWS"
	echo "incremental: $((CONTACTS / 100)) contacts changed per run (--mutate 0.1 at $small, 0.01 at $CONTACTS); rows = records in the file"
	[ "${EMPTY_WINDOWS:-0}" -gt 0 ] &&
		echo "WARNING: $EMPTY_WINDOWS incremental files had an empty window (an open transaction on the server held it back): their numbers are not valid"
	echo
	bench_print_table
	echo
	echo "where the time went (medians; the server's CPU only when bench.sh started it):"
	echo
	bench_print_cpu "export full" mysqldump "mysqldump|gzip" "into outfile" "import full" "mysqldump|mysql" \
		"mysql<dump.sql" "load data" "resync unchanged" "resync 1%" "export incr small" "import incr small" "export incr big" "import incr big" \
		"digest all rows" "export incr no checksum" "export incr checksum"
	echo
	report_targets
}

# The performance targets (docs/performance.md).
report_targets() {
	local ex im ib rss all
	ex=$(bench_div "$(median_of "export full")" "$(median_of mysqldump)")
	im=$(bench_div "$(median_of "import full")" "$(median_of "mysql<dump.sql")")
	ib=$(median_of "import incr big")
	all=""
	for k in "${!BENCH_RSS[@]}"; do
		case $k in export* | import*) all+="${BENCH_RSS[$k]} " ;; esac
	done
	rss=-
	[ -n "$all" ] && rss=$(($(bench_max "$all") / 1024))
	echo "targets:"
	target "full export <= 1.3x mysqldump (aim 1.0x)" "$ex" "<= 1.3"
	target "full import into an empty master <= 1.2x mysql < dump.sql" "$im" "<= 1.2"
	target "resync, nothing changed <= 0.5x mysql < dump.sql (aim 0.2x)" \
		"$(bench_div "$(median_of "resync unchanged")" "$(median_of "mysql<dump.sql")")" "<= 0.5"
	target "resync, 1% changed <= 0.5x mysql < dump.sql" \
		"$(bench_div "$(median_of "resync 1%")" "$(median_of "mysql<dump.sql")")" "<= 0.5"
	target "incremental import of 1% at $CONTACTS contacts < 1 s" "$ib" "< 1"
	target "incremental import within 1.3x of the same changes at 1/10 size" \
		"$(bench_div "$ib" "$(median_of "import incr small")")" "<= 1.3"
	target "peak RSS of every tributary run < 150 MB" "$rss" "< 150"
}

median_of() {
	if [ -n "${BENCH_SECS[$1]:-}" ]; then bench_median "${BENCH_SECS[$1]}"; else echo -; fi
}

# target TEXT VALUE "OP LIMIT"
target() {
	local verdict
	verdict=$(awk -v v="$2" -v op="${3% *}" -v lim="${3#* }" 'BEGIN {
		if (v == "-" || v == "") { print "not measured"; exit }
		ok = (op == "<") ? v + 0 < lim + 0 : v + 0 <= lim + 0
		print ok ? "met" : "NOT MET" }')
	printf '  %-66s %8s  %s\n' "$1" "$2" "$verdict"
}

# --- main -----------------------------------------------------------------------

main() {
	case $CONTACTS in -h | --help) usage ;; esac
	if ! [[ $CONTACTS =~ ^[0-9]+$ ]] || [ "$CONTACTS" -lt 1000 ]; then
		echo "bench: CONTACTS must be a number >= 1000 (the small incremental run uses CONTACTS/10)" >&2
		exit 2
	fi
	[ "$REPS" -ge 1 ] 2>/dev/null || { echo "bench: BENCH_REPS must be a number" >&2; exit 2; }
	declare -gA INCR_RECORDS=()
	CHECKSUM_RECORDS=""
	RESYNC_RECORDS=""
	BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/tributary-bench.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	need_time
	find_clients
	start_server
	describe_machine
	build
	mapfile -t TABLES < <(synced_tables)

	echo "== generating $CONTACTS contacts in ${DB}_child" >&2
	new_db "${DB}_child" "$CONTACTS" --seed 1
	ROWS=$(count_rows "${DB}_child")
	HAVE_OUTFILE=0
	if outfile_possible; then
		HAVE_OUTFILE=1
		write_outfile_sql "${DB}_child"
	else
		echo "bench: the server cannot write files into $BENCH_WORK (not local, or secure_file_priv): no LOAD DATA reference" >&2
	fi

	if [ "$MEMORY_ONLY" = 1 ]; then
		memory_run
		return
	fi
	bench_full_export
	bench_full_import
	bench_resync
	bench_incremental
	bench_checksum
	report
}

# BENCH_MEMORY=1: one full export and one full import, and their peak RSS.
memory_run() {
	echo "== memory run: full export and import of $ROWS rows" >&2
	OUT="$BENCH_WORK/out"
	mkdir -p "$OUT"
	full_export_tributary "${DB}_child"
	full_import_tributary
	local rss=$(($(bench_max "${BENCH_RSS[export full]} ${BENCH_RSS[import full]}") / 1024))
	echo
	echo "tributary memory run: $CONTACTS contacts, $ROWS rows; machine: $MACHINE"
	echo "full export: $(median_of "export full") s, peak RSS $(($(bench_max "${BENCH_RSS[export full]}") / 1024)) MB"
	echo "full import: $(median_of "import full") s, peak RSS $(($(bench_max "${BENCH_RSS[import full]}") / 1024)) MB"
	target "peak RSS of every tributary run < 150 MB" "$rss" "< 150"
}

main
