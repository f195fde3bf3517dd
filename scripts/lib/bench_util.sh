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

# Samples per measurement key: wall seconds and peak RSS in KB, space
# separated, in the order they were taken.
declare -gA BENCH_SECS=() BENCH_RSS=()

# bench_measure KEY CMD...: run CMD (an executable, not a shell function)
# and record its wall time and peak RSS under KEY. Wall time comes from
# bash's microsecond clock, because /usr/bin/time prints only hundredths,
# too coarse for sub-second incremental runs. CMD's stderr is kept in
# $BENCH_WORK/last.err and shown if CMD fails; its stdout is the caller's.
bench_measure() {
	local key=$1
	shift
	local tf="$BENCH_WORK/time.out" start end
	start=$EPOCHREALTIME
	if ! /usr/bin/time -f '%M' -o "$tf" "$@" 2>"$BENCH_WORK/last.err"; then
		echo "bench: $key failed: $*" >&2
		tail -n 20 "$BENCH_WORK/last.err" >&2
		return 1
	fi
	end=$EPOCHREALTIME
	BENCH_SECS[$key]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
	BENCH_RSS[$key]+="$(tail -n 1 "$tf") "
	printf '   %-24s %8.3f s  %7d MB\n' "$key" "$(bench_last "${BENCH_SECS[$key]}")" \
		$(($(tail -n 1 "$tf") / 1024)) >&2
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
