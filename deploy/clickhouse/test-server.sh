#!/bin/sh
# test-server.sh — a private ClickHouse for Vigie's tests.
#
#   deploy/clickhouse/test-server.sh start   install if missing, start, wait, print the DSN
#   deploy/clickhouse/test-server.sh stop    stop it and remove its data directory
#   deploy/clickhouse/test-server.sh kill    SIGKILL it, keeping its data (fault tests)
#   deploy/clickhouse/test-server.sh dsn     print the DSN
#   deploy/clickhouse/test-server.sh status  exit 0 when it answers
#
# The instance runs as a background process on 127.0.0.1 only, on its own
# ports, with its own config and data under $VIGIE_CH_DIR, so it never clashes
# with a system ClickHouse. Debian bookworm ships clickhouse-server 18.16; the
# script installs it with apt-get when it is missing. Every command is
# idempotent but kill: start on a running instance only prints the DSN, stop
# on a stopped one does nothing; kill with nothing running fails. start after
# kill restarts on the same data.
#
# Environment (defaults in brackets):
#   VIGIE_CH_DIR               state directory [/tmp/vigie-clickhouse-test]
#   VIGIE_CH_PORT              native protocol port [19000]
#   VIGIE_CH_HTTP_PORT         HTTP port [18123]
#   VIGIE_CH_INTERSERVER_PORT  interserver HTTP port [19009]
#   VIGIE_CH_DATABASE          database created and named in the DSN [vigie_test]
set -eu

DIR=${VIGIE_CH_DIR:-/tmp/vigie-clickhouse-test}
PORT=${VIGIE_CH_PORT:-19000}
HTTP_PORT=${VIGIE_CH_HTTP_PORT:-18123}
INTERSERVER_PORT=${VIGIE_CH_INTERSERVER_PORT:-19009}
DATABASE=${VIGIE_CH_DATABASE:-vigie_test}
PIDFILE=$DIR/clickhouse.pid
DSN="clickhouse://127.0.0.1:$PORT/$DATABASE"

say() { echo "test-server.sh: $*" >&2; }

client() {
	clickhouse-client --host 127.0.0.1 --port "$PORT" "$@"
}

# alive: the process exists and is not a zombie (a killed server whose
# parent has not reaped it yet still answers kill -0).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$state" != Z ]
}

running_pid() {
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && alive "$pid" || return 1
	echo "$pid"
}

answers() {
	client --query 'SELECT 1' >/dev/null 2>&1
}

install() {
	if command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1; then
		return 0
	fi
	say "clickhouse-server not found: installing Debian's clickhouse-server and clickhouse-client"
	SUDO=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || { say "not root and no sudo: install clickhouse-server yourself"; exit 1; }
		SUDO=sudo
	fi
	$SUDO apt-get update >&2
	# policy-rc.d is Debian's way to keep the package from starting the system
	# service: only our private instance must run.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
		clickhouse-server clickhouse-client >&2
}

write_config() {
	mkdir -p "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/format_schemas" "$DIR/log"
	cat >"$DIR/config.xml" <<XML
<?xml version="1.0"?>
<!-- Written by deploy/clickhouse/test-server.sh: a private test instance. -->
<yandex>
    <logger>
        <level>warning</level>
        <log>$DIR/log/clickhouse-server.log</log>
        <errorlog>$DIR/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$PORT</tcp_port>
    <http_port>$HTTP_PORT</http_port>
    <interserver_http_port>$INTERSERVER_PORT</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>$DIR/data/</path>
    <tmp_path>$DIR/tmp/</tmp_path>
    <user_files_path>$DIR/user_files/</user_files_path>
    <format_schema_path>$DIR/format_schemas/</format_schema_path>
    <users_config>$DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>256</max_connections>
    <max_concurrent_queries>64</max_concurrent_queries>
    <keep_alive_timeout>3</keep_alive_timeout>
    <!-- Small caches: the machine is shared and the data is tiny. -->
    <uncompressed_cache_size>134217728</uncompressed_cache_size>
    <mark_cache_size>134217728</mark_cache_size>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>0</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
XML
	cat >"$DIR/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
XML
}

start() {
	install
	if pid=$(running_pid) && answers; then
		echo "$DSN"
		return 0
	fi
	if pid=$(running_pid); then
		say "pid $pid is running but does not answer yet; waiting"
	else
		write_config
		# setsid: the server outlives the shell (make) that started it.
		setsid clickhouse-server --config-file="$DIR/config.xml" \
			</dev/null >"$DIR/log/stdout.log" 2>&1 &
		echo $! >"$PIDFILE"
	fi
	i=0
	until answers; do
		i=$((i + 1))
		if ! running_pid >/dev/null; then
			say "clickhouse-server exited; its log says:"
			tail -n 30 "$DIR/log/stdout.log" "$DIR/log/clickhouse-server.err.log" >&2 2>/dev/null || true
			exit 1
		fi
		if [ $i -ge 600 ]; then
			say "clickhouse-server did not answer on 127.0.0.1:$PORT within 60s"
			exit 1
		fi
		sleep 0.1
	done
	client --query "CREATE DATABASE IF NOT EXISTS $DATABASE"
	echo "$DSN"
}

stop() {
	if pid=$(running_pid); then
		kill -TERM "$pid"
		i=0
		while alive "$pid"; do
			i=$((i + 1))
			if [ $i -ge 300 ]; then
				say "pid $pid ignored SIGTERM for 30s: killing it"
				kill -KILL "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
	fi
	# Only remove a directory this script made.
	if [ -f "$DIR/config.xml" ] && grep -q 'test-server.sh' "$DIR/config.xml"; then
		rm -rf "$DIR"
	fi
}

kill_hard() {
	# A fault test that kills nothing would pass for the wrong reason.
	if ! pid=$(running_pid); then
		say "kill: no running clickhouse-server recorded in $PIDFILE"
		exit 1
	fi
	kill -KILL "$pid"
	while alive "$pid"; do sleep 0.05; done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
kill) kill_hard ;;
dsn) echo "$DSN" ;;
status) running_pid >/dev/null && answers ;;
*)
	echo "usage: $0 start|stop|kill|dsn|status" >&2
	exit 2
	;;
esac
