# Used by test-cluster.sh: start a throwaway MariaDB Galera cluster of
# GALERA_NODES nodes (default 3) on loopback, each in its own directory
# under one temporary directory, on free ports, and stop every node (by
# PID) when the calling script exits, also on failure or Ctrl-C.
# After galera_start: GALERA_DSNS (go-sql-driver DSNs, no database, one per
# node, comma-separated), GALERA_DIR.
#
# The nodes run as the system's mysql user: the rsync state transfer that
# brings a joining node up to date fails when the server runs as root.

GALERA_NODES=${GALERA_NODES:-3}
GALERA_PROVIDER=/usr/lib/galera/libgalera_smm.so

galera_install() {
	local missing=()
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server mariadb-client)
	[ -e "$GALERA_PROVIDER" ] || missing+=(galera-4)
	command -v rsync >/dev/null 2>&1 || missing+=(rsync)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing ${missing[*]} and not root: install them (apt-get install ${missing[*]})" >&2
		return 1
	fi
	echo "== installing ${missing[*]} (Debian packages)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# galera_free_ports N: N ports that nothing listens on, from 34000 up.
galera_free_ports() {
	local want=$1 port found=0
	for port in $(seq 34000 34999); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			found=$((found + 1))
			[ "$found" -eq "$want" ] && return 0
		fi
	done
	echo "not enough free ports between 34000 and 34999" >&2
	return 1
}

galera_stop() {
	local pid
	for pid in ${GALERA_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in ${GALERA_PIDS:-}; do
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	GALERA_PIDS=""
	[ -n "${GALERA_DIR:-}" ] && [ -z "${GALERA_KEEP:-}" ] && rm -rf "$GALERA_DIR"
	return 0
}

# galera_sql NODE SQL: run SQL on node NODE (1-based) as root over its socket.
galera_sql() {
	mariadb --no-defaults -uroot --socket="$GALERA_DIR/node$1/mysqld.sock" -N -B -e "$2"
}

galera_node_start() {
	local n=$1 dir="$GALERA_DIR/node$1" bootstrap=$2
	local args=(
		--no-defaults --user=mysql --datadir="$dir/data"
		--port="${GALERA_SQL_PORTS[$n]}" --bind-address=127.0.0.1 --socket="$dir/mysqld.sock"
		--pid-file="$dir/mysqld.pid" --log-error="$dir/error.log"
		--innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2
		--max-allowed-packet=64M --max-connections=300
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
		--binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2
		--wsrep-on=ON --wsrep-provider="$GALERA_PROVIDER"
		--wsrep-cluster-name=tributary-test
		--wsrep-cluster-address="gcomm://$GALERA_MEMBERS"
		--wsrep-node-name="node$n"
		--wsrep-node-address="127.0.0.1:${GALERA_GCOMM_PORTS[$n]}"
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${GALERA_GCOMM_PORTS[$n]};ist.recv_addr=127.0.0.1:${GALERA_IST_PORTS[$n]}"
		--wsrep-sst-method=rsync
		--wsrep-sst-receive-address="127.0.0.1:${GALERA_SST_PORTS[$n]}"
	)
	[ "$bootstrap" = 1 ] && args+=(--wsrep-new-cluster)
	mariadbd "${args[@]}" >"$dir/stderr.log" 2>&1 &
	GALERA_PIDS="${GALERA_PIDS:-} $!"
	eval "GALERA_PID_$n=$!"
}

# galera_wait_synced NODE: until the node is Synced in a cluster of every node.
galera_wait_synced() {
	local n=$1 state size pidvar="GALERA_PID_$1"
	for _ in $(seq 1 600); do
		state=$(galera_sql "$n" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'" 2>/dev/null || true)
		size=$(galera_sql "$n" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'" 2>/dev/null || true)
		if [ "$state" = Synced ] && [ "${size:-0}" -ge "$n" ]; then
			echo "== node $n: $state, cluster size $size" >&2
			return 0
		fi
		if ! kill -0 "${!pidvar}" 2>/dev/null; then
			echo "node $n stopped:" >&2
			tail -30 "$GALERA_DIR/node$n/error.log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "node $n was not Synced within 120 s (state '$state', cluster size '$size'):" >&2
	tail -30 "$GALERA_DIR/node$n/error.log" >&2
	return 1
}

galera_start() {
	galera_install
	if [ "$(id -u)" = 0 ] && ! id mysql >/dev/null 2>&1; then
		echo "there is no mysql user to run the nodes as (the mariadb-server package makes it)" >&2
		return 1
	fi
	GALERA_DIR=$(mktemp -d /tmp/tributary-galera.XXXXXX)
	chmod 755 "$GALERA_DIR"
	trap galera_stop EXIT
	trap 'galera_stop; exit 130' INT TERM
	local ports n i=0
	ports=($(galera_free_ports $((4 * GALERA_NODES))))
	GALERA_SQL_PORTS=() GALERA_GCOMM_PORTS=() GALERA_IST_PORTS=() GALERA_SST_PORTS=()
	GALERA_MEMBERS=""
	for n in $(seq 1 "$GALERA_NODES"); do
		GALERA_SQL_PORTS[$n]=${ports[$i]}
		GALERA_GCOMM_PORTS[$n]=${ports[$((i + 1))]}
		GALERA_IST_PORTS[$n]=${ports[$((i + 2))]}
		GALERA_SST_PORTS[$n]=${ports[$((i + 3))]}
		i=$((i + 4))
		GALERA_MEMBERS="$GALERA_MEMBERS${GALERA_MEMBERS:+,}127.0.0.1:${GALERA_GCOMM_PORTS[$n]}"
		mkdir -p "$GALERA_DIR/node$n/data"
	done
	chown -R mysql:mysql "$GALERA_DIR"
	echo "== starting a $GALERA_NODES-node Galera cluster on 127.0.0.1 ports ${GALERA_SQL_PORTS[*]} ($GALERA_DIR)" >&2
	mariadb-install-db --no-defaults --user=mysql --datadir="$GALERA_DIR/node1/data" \
		--auth-root-authentication-method=normal --skip-test-db >"$GALERA_DIR/install.log" 2>&1 || {
		cat "$GALERA_DIR/install.log" >&2
		return 1
	}
	galera_node_start 1 1
	galera_wait_synced 1 || return 1
	# Named time zones, as the single-server tests have them; replicated.
	if [ -d /usr/share/zoneinfo ]; then
		mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null |
			mariadb --no-defaults -uroot --socket="$GALERA_DIR/node1/mysqld.sock" mysql
	fi
	for n in $(seq 2 "$GALERA_NODES"); do
		galera_node_start "$n" 0
		galera_wait_synced "$n" || return 1
	done
	GALERA_DSNS=""
	for n in $(seq 1 "$GALERA_NODES"); do
		GALERA_DSNS="$GALERA_DSNS${GALERA_DSNS:+,}root@tcp(127.0.0.1:${GALERA_SQL_PORTS[$n]})/"
	done
	export GALERA_DSNS GALERA_DIR
}
