# Helpers for scripts/bench.sh: a client option file from a go-sql-driver
# DSN, timed runs with peak RSS, medians, and the result table.
# Sourced, not run; expects BENCH_WORK (a private temporary directory).

# bench_client_config DSN FILE: write a [client] option file for the
# mariadb/mariadb-dump clients from a go-sql-driver DSN
# ([user[:password]@][tcp(host:port)|unix(path)]/[db][?params]), so the
# password never appears on a command line or in ps.
bench_client_config() {
	local dsn=$1 file=$2
	local re='^(([^:@]*)(:(.*))?@)?([a-z0-9]*)(\(([^)]*)\))?/([^?]*)(\?.*)?$'
	if [[ ! $dsn =~ $re ]]; then
		echo "bench: cannot read the DSN (want user:pass@tcp(host:port)/)" >&2
		return 2
	fi
	local user=${BASH_REMATCH[2]} password=${BASH_REMATCH[4]} net=${BASH_REMATCH[5]:-tcp}
	local addr=${BASH_REMATCH[7]}
	(
		umask 077
		{
			echo "[client]"
			[ -n "$user" ] && echo "user=$user"
			[ -n "$password" ] && echo "password=$password"
			case $net in
			unix) echo "socket=${addr:-/tmp/mysql.sock}" ;;
			tcp)
				local host=${addr:-127.0.0.1} port=3306
				if [[ $host == *:* ]]; then
					port=${host##*:}
					host=${host%:*}
				fi
				[ "$host" = localhost ] && host=127.0.0.1 # "localhost" would mean the socket to the clients
				echo "host=$host"
				echo "port=$port"
				echo "protocol=tcp"
				;;
			*)
				echo "bench: DSN network $net is not supported (tcp or unix)" >&2
				exit 2
				;;
			esac
			echo "default-character-set=utf8mb4"
		} >"$file"
	)
}

# bench_dsn_for DSN DB: the DSN with its database set to DB (parameters kept).
bench_dsn_for() {
	local dsn=$1 db=$2 params=""
	if [[ $dsn == *\?* ]]; then
		params="?${dsn#*\?}"
		dsn=${dsn%%\?*}
	fi
	echo "${dsn%/*}/$db$params"
}

# Samples per measurement key: wall seconds, peak RSS in KB, CPU seconds
# of the command (user + system, its children included) and of the
# database server, space separated, in the order they were taken.
declare -gA BENCH_SECS=() BENCH_RSS=() BENCH_CPU=() BENCH_SRV=()

# bench_server_cpu: CPU seconds the server process has used so far, when
# BENCH_SERVER_PID names a local server (the throwaway one); "-" otherwise.
bench_server_cpu() {
	local stat=/proc/${BENCH_SERVER_PID:-0}/stat
	if [ -z "${BENCH_SERVER_PID:-}" ] || [ ! -r "$stat" ]; then
		echo -
		return
	fi
	# Fields 14 and 15: user and system time in clock ticks. The name in
	# field 2 ("(mariadbd)") has no spaces.
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "$stat"
}

# bench_measure KEY CMD...: run CMD (an executable, not a shell function)
# and record its wall time and peak RSS under KEY. Wall time comes from
# bash's microsecond clock, because /usr/bin/time prints only hundredths,
# too coarse for sub-second incremental runs. CMD's stderr is kept in
# $BENCH_WORK/last.err and shown if CMD fails; its stdout is the caller's.
bench_measure() {
	local key=$1
	shift
	local tf="$BENCH_WORK/time.out" start end srv0 srv1 rss cpu
	srv0=$(bench_server_cpu)
	start=$EPOCHREALTIME
	if ! /usr/bin/time -f '%M %U %S' -o "$tf" "$@" 2>"$BENCH_WORK/last.err"; then
		echo "bench: $key failed: $*" >&2
		tail -n 20 "$BENCH_WORK/last.err" >&2
		return 1
	fi
	end=$EPOCHREALTIME
	srv1=$(bench_server_cpu)
	read -r rss cpu < <(tail -n 1 "$tf" | awk '{ printf "%d %.2f\n", $1, $2 + $3 }')
	BENCH_SECS[$key]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
	BENCH_RSS[$key]+="$rss "
	BENCH_CPU[$key]+="$cpu "
	BENCH_SRV[$key]+="$(awk -v a="$srv0" -v b="$srv1" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f", b - a }') "
	printf '   %-24s %8.3f s  %7d MB  cpu %6.2f s  server cpu %6s s\n' "$key" "$(bench_last "${BENCH_SECS[$key]}")" \
		$((rss / 1024)) "$cpu" "$(bench_last "${BENCH_SRV[$key]}")" >&2
}

bench_last() { local a=($1); echo "${a[-1]}"; }

# bench_median "N N N": the median (mean of the middle two for an even count).
bench_median() {
	printf '%s\n' $1 | sort -g | awk 'NF { v[++n] = $1 }
		END { if (n == 0) exit 1; if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# bench_max "N N N": the largest value.
bench_max() { printf '%s\n' $1 | sort -g | tail -n 1; }

# bench_div A B [FORMAT]: A/B, or "-" when either is missing or B is 0.
bench_div() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
		printf f "\n", a / b }'
}

# Result rows, filled by bench_row and printed by bench_print_table.
BENCH_TABLE=()

# bench_row LABEL ROWS TRIB_KEY REF_LABEL REF_KEY: one line of the table:
# the tributary measurement's median, its rate, the reference's median, the
# ratio and tributary's peak RSS (the largest of its runs). A missing key
# prints "-" (a reference that could not run, or --reference-only).
bench_row() {
	local label=$1 rows=$2 tkey=$3 rlabel=$4 rkey=$5
	local t="-" r="-" rss="-"
	[ -n "${BENCH_SECS[$tkey]:-}" ] && t=$(bench_median "${BENCH_SECS[$tkey]}")
	[ -n "$rkey" ] && [ -n "${BENCH_SECS[$rkey]:-}" ] && r=$(bench_median "${BENCH_SECS[$rkey]}")
	[ -n "${BENCH_RSS[$tkey]:-}" ] && rss=$(($(bench_max "${BENCH_RSS[$tkey]}") / 1024))
	BENCH_TABLE+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$label" "$rows" "$t" \
		"$(bench_div "$rows" "$t" %.0f)" "$rlabel" "$r" "$(bench_div "$t" "$r")" "$rss")")
}

bench_print_table() {
	local fmt='| %-28s | %9s | %11s | %9s | %-34s | %7s | %6s | %11s |\n'
	printf "$fmt" measurement rows "tributary s" "rows/s" reference "ref s" ratio "peak RSS MB"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..30})" "$(printf -- '-%.0s' {1..11})" \
		"$(printf -- '-%.0s' {1..13})" "$(printf -- '-%.0s' {1..11})" "$(printf -- '-%.0s' {1..36})" \
		"$(printf -- '-%.0s' {1..9})" "$(printf -- '-%.0s' {1..8})" "$(printf -- '-%.0s' {1..13})"
	local line
	for line in "${BENCH_TABLE[@]}"; do
		IFS=$'\t' read -r -a f <<<"$line"
		printf "$fmt" "${f[@]}"
	done
}

# bench_print_cpu KEY...: where each measurement's time went: medians of
# wall time, of the command's CPU and of the server's CPU. On 2 cores, a
# run whose two CPU figures add up to twice its wall time was limited by
# the processors, not by waiting.
bench_print_cpu() {
	local fmt='| %-22s | %8s | %12s | %12s |\n' key srv
	printf "$fmt" run "wall s" "client CPU s" "server CPU s"
	printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..10})" \
		"$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..14})"
	for key in "$@"; do
		[ -n "${BENCH_SECS[$key]:-}" ] || continue
		srv=$(printf '%s\n' ${BENCH_SRV[$key]} | { grep -v '^-$' || true; } | tr '\n' ' ')
		printf "$fmt" "$key" "$(bench_median "${BENCH_SECS[$key]}")" "$(bench_median "${BENCH_CPU[$key]}")" \
			"$(bench_median "$srv" 2>/dev/null || echo -)"
	done
}
