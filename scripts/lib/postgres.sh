# shellcheck shell=bash
# A private PostgreSQL server, started and stopped the same way by `./dev.sh up` (kept in .tether),
# `./dev.sh test` and `./dev.sh bench` (thrown away afterwards). Source after common.sh.
#
# The server listens on 127.0.0.1 only, trusts local connections (it holds nothing but
# development data) and puts its unix socket in a directory of its own, so it never meets the
# system's cluster in /var/run/postgresql. initdb refuses to run as root, so when we are root the
# server runs as the `postgres` account that Debian's postgresql package creates.

# Directory holding initdb, pg_ctl and psql. Debian keeps them off PATH, under
# /usr/lib/postgresql/<major>/bin; the newest major version wins.
pg_bindir() {
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [[ -n $dir && -x $dir/initdb ]]; then
    printf '%s\n' "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    die "PostgreSQL server programs (initdb, pg_ctl) not found; run ./dev.sh deps"
  fi
}

# Runs a command as the account that owns the server's files. From / so that a current
# directory the account cannot enter (such as /root) does not bother initdb or pg_ctl.
pg_as_owner() {
  if running_as_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# True when the server's account can reach DIR, i.e. every directory above it is searchable.
pg_owner_can_reach() {
  pg_as_owner test -x "$1" 2>/dev/null
}

pg_prepare_dir() {
  local dir=$1
  mkdir -p "$dir"
  if running_as_root; then
    chown postgres:postgres "$dir"
  fi
  chmod 700 "$dir"
}

pg_is_running() {
  local data_dir=$1
  [[ -f $data_dir/PG_VERSION ]] || return 1
  pg_as_owner "$(pg_bindir)/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

# pg_start DATA_DIR SOCKET_DIR PORT [SETTING...]
# Creates the cluster on first use (SETTINGs such as 'fsync = off' are written into its
# postgresql.conf then), and starts it on PORT unless it is already running. Its log is
# DATA_DIR/server.log.
pg_start() {
  local data_dir=$1 socket_dir=$2 port=$3
  shift 3
  local bin output setting
  bin=$(pg_bindir)
  pg_prepare_dir "$data_dir"
  pg_prepare_dir "$socket_dir"

  if [[ ! -f $data_dir/PG_VERSION ]]; then
    say "creating a PostgreSQL cluster in $data_dir"
    if ! output=$(pg_as_owner "$bin/initdb" -D "$data_dir" -U postgres -A trust -E UTF8 --no-locale 2>&1); then
      printf '%s\n' "$output" >&2
      die "initdb failed for $data_dir"
    fi
    {
      printf '\n# Written by dev.sh: a private server reachable from this machine only.\n'
      printf "listen_addresses = '127.0.0.1'\n"
      printf "unix_socket_directories = '%s'\n" "${socket_dir//\'/\'\'}"
      for setting in "$@"; do
        printf '%s\n' "$setting"
      done
    } | pg_as_owner tee -a "$data_dir/postgresql.conf" >/dev/null
  fi

  if pg_is_running "$data_dir"; then
    return 0
  fi
  # The port is given at each start (not written into the configuration), so a port that was
  # taken meanwhile can be swapped for another without touching the cluster.
  if ! pg_as_owner "$bin/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 -o "-p $port" start >/dev/null; then
    show_log_tails "$data_dir/server.log"
    die "PostgreSQL in $data_dir did not start on port $port"
  fi
}

# Stops the server if it runs; its data stays.
pg_stop() {
  local data_dir=$1
  pg_is_running "$data_dir" || return 0
  local bin
  bin=$(pg_bindir)
  pg_as_owner "$bin/pg_ctl" -D "$data_dir" -w -t 60 -m fast stop >/dev/null ||
    pg_as_owner "$bin/pg_ctl" -D "$data_dir" -w -t 30 -m immediate stop >/dev/null
}

# pg_url PORT DATABASE: the superuser URL of database DATABASE.
pg_url() {
  printf 'postgresql://postgres@127.0.0.1:%s/%s\n' "$1" "$2"
}

# pg_ensure_database PORT NAME: creates database NAME unless it exists. NAME must be a plain
# identifier ([a-z0-9_]).
pg_ensure_database() {
  local port=$1 name=$2 bin found
  [[ $name =~ ^[a-z0-9_]+$ ]] || die "unexpected database name '$name'"
  bin=$(pg_bindir)
  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  found=$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
  if [[ $found != 1 ]]; then
    "${psql[@]}" -c "CREATE DATABASE $name"
  fi
}

# pg_start_throwaway DIR [SETTING...]: a fresh cluster in DIR (made reachable for the server's
# account) on a free port, which it stores in PG_THROWAWAY_PORT. The caller stops it with
# `pg_stop DIR/pgdata` and removes DIR.
pg_start_throwaway() {
  local dir=$1
  shift
  # mktemp makes DIR 0700; the server's account must be able to enter it.
  chmod 711 "$dir"
  PG_THROWAWAY_PORT=$(pick_free_port)
  pg_start "$dir/pgdata" "$dir/pgsocket" "$PG_THROWAWAY_PORT" "$@"
}
