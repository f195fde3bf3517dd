# Shared by test.sh, demo.sh and bench.sh: start a throwaway MariaDB server
# in a temporary directory, on a free port with its own socket, and stop it
# when the calling script exits (also on failure or Ctrl-C).
# MARIADB_EXTRA_ARGS, when set, adds server options (split at spaces).
# After mariadb_start: MARIADB_DSN (go-sql-driver DSN, no database),
# MARIADB_PORT, MARIADB_SOCKET, MARIADB_DIR.

mariadb_install() {
	if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "mariadb-server is not installed and we are not root: install it (apt-get install mariadb-server) or set TRIBUTARY_TEST_DSN" >&2
		return 1
	fi
	echo "== installing mariadb-server (Debian package)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >&2
}

mariadb_free_port() {
	local port
	for port in $(seq 33060 33160); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "no free port between 33060 and 33160" >&2
	return 1
}

mariadb_stop() {
	if [ -n "${MARIADB_PID:-}" ] && kill -0 "$MARIADB_PID" 2>/dev/null; then
		kill "$MARIADB_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$MARIADB_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$MARIADB_PID" 2>/dev/null || true
	fi
	[ -n "${MARIADB_DIR:-}" ] && rm -rf "$MARIADB_DIR"
	MARIADB_PID=""
}

# Named time zones (tests switch a session to a zone with daylight saving)
# need the server's time zone tables filled from the system's zoneinfo.
mariadb_load_time_zones() {
	[ -d /usr/share/zoneinfo ] || return 0
	mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null |
		mariadb --no-defaults -uroot --socket="$MARIADB_SOCKET" mysql
}

mariadb_start() {
	mariadb_install
	local mariadbd=/usr/sbin/mariadbd
	command -v mariadbd >/dev/null 2>&1 && mariadbd=$(command -v mariadbd)
	MARIADB_DIR=$(mktemp -d /tmp/tributary-mariadb.XXXXXX)
	MARIADB_PORT=$(mariadb_free_port)
	MARIADB_SOCKET="$MARIADB_DIR/mysqld.sock"
	trap mariadb_stop EXIT
	trap 'mariadb_stop; exit 130' INT TERM
	local user_opt=()
	[ "$(id -u)" = 0 ] && user_opt=(--user=root)
	echo "== starting a throwaway MariaDB on 127.0.0.1:$MARIADB_PORT ($MARIADB_DIR)" >&2
	mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$MARIADB_DIR/data" \
		--auth-root-authentication-method=normal --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 || {
		cat "$MARIADB_DIR/install.log" >&2
		return 1
	}
	"$mariadbd" --no-defaults "${user_opt[@]}" --datadir="$MARIADB_DIR/data" \
		--port="$MARIADB_PORT" --bind-address=127.0.0.1 --socket="$MARIADB_SOCKET" \
		--pid-file="$MARIADB_DIR/mysqld.pid" --log-error="$MARIADB_DIR/error.log" \
		--innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 \
		--max-allowed-packet=64M --max-connections=500 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci ${MARIADB_EXTRA_ARGS:-} >"$MARIADB_DIR/stderr.log" 2>&1 &
	MARIADB_PID=$!
	for _ in $(seq 1 300); do
		if mariadb --no-defaults -uroot --socket="$MARIADB_SOCKET" -e 'SELECT 1' >/dev/null 2>&1; then
			mariadb_load_time_zones
			MARIADB_DSN="root@tcp(127.0.0.1:$MARIADB_PORT)/"
			export MARIADB_DSN MARIADB_PORT MARIADB_SOCKET MARIADB_DIR
			return 0
		fi
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
			echo "MariaDB did not start:" >&2
			tail -20 "$MARIADB_DIR/error.log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "MariaDB did not answer within 60s:" >&2
	tail -20 "$MARIADB_DIR/error.log" >&2
	return 1
}
