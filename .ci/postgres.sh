#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the registry tests, and print the URL.
# Usage: url=$(.ci/postgres.sh start DIR) ... .ci/postgres.sh stop DIR
# Installs Debian's postgresql when no server binaries are found (CI starts from a clean machine).
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data directory}

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [[ -z "$found" ]]; then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
                || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
                     apt-get install -y -qq postgresql >/dev/null; }
            found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
        else
            echo "PostgreSQL server not found and cannot install it (need root and apt-get)" >&2
            exit 1
        fi
    fi
    echo "$found"
}

as_owner() {  # initdb and postgres refuse to run as root
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
start)
    bin=$(bindir)
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home postgres
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(bindir)
    [[ -d "$dir/data" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
