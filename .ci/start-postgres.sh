#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests. Prints shell assignments, for `eval`:
#   BUDGET_LEDGER_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
#   BUDGET_LEDGER_TEST_PG_STOP='…pg_ctl -D … -m fast stop'   (the command that stops it again)
# initdb refuses to run as root, so the cluster belongs to the `postgres` user, in a fresh temporary
# directory, on a free port on the loopback interface.
set -euo pipefail

find_bin() {
  local name=$1
  command -v "$name" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}
INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)
[ -n "$INITDB" ] && [ -n "$PG_CTL" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }

RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi

BASE=$(mktemp -d /tmp/budget-ledger-pg.XXXXXX)
chmod 755 "$BASE"
[ "$(id -u)" = 0 ] && chown postgres: "$BASE"
PGDATA="$BASE/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

"${RUN_AS[@]}" "$INITDB" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 \
  || "${RUN_AS[@]}" "$INITDB" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$BASE/initdb.log" 2>&1
"${RUN_AS[@]}" "$PG_CTL" -D "$PGDATA" -l "$BASE/server.log" -w -t 60 \
  -o "-p $PORT -k $BASE -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off" \
  start >/dev/null
echo "BUDGET_LEDGER_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "BUDGET_LEDGER_TEST_PG_STOP='${RUN_AS[*]} $PG_CTL -D $PGDATA -m fast stop'"
