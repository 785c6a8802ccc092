#!/usr/bin/env bash
# Tether on one Debian 12 machine, from a fresh install:
#   ./dev.sh up      run it (private PostgreSQL, controller over TLS, one agent) and print how to call it
#   ./dev.sh test    build and run every test against a throwaway PostgreSQL
# `./dev.sh help` lists the other commands.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
cd "$ROOT"

# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
# shellcheck source=scripts/lib/stack.sh
source "$ROOT/scripts/lib/stack.sh"

BUILD_DIR=${TETHER_DEV_BUILD_DIR:-$ROOT/build}
STATE_DIR=$ROOT/.tether
CONTROLLER_BIN=$BUILD_DIR/controller/tether-controller
AGENT_BIN=$BUILD_DIR/agent/tether-agent
BENCH_DIR=$BUILD_DIR/bench
BENCHMARKS=(exec_latency stream_throughput)
# Run only when named: they bring their own fleet of simulated agents (bench/agent_swarm).
FLEET_BENCHMARKS=(fanout scheduler_lateness agent_swarm)
FUZZ_BUILD_DIR=$ROOT/build-fuzz
API_URL=
API_CURL_TLS=()

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git curl jq openssl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpqxx-dev libpq-dev libssl-dev libfmt-dev libspdlog-dev catch2 prometheus-cpp-dev
  libcctz-dev tzdata
  postgresql postgresql-client
  clang-14 libclang-rt-14-dev
)

usage() {
  cat <<'EOF'
Usage: ./dev.sh COMMAND

  deps     install the Debian packages Tether needs (only those missing; uses sudo when not root)
  build    configure build/ once (Ninja, RelWithDebInfo) and build everything
  up       deps + build of the two binaries only (no tests or benchmarks), then run a private
           PostgreSQL (.tether/pgdata), the controller on https://127.0.0.1:8443 and one agent;
           prints the URL, keys and a curl example.
           Idempotent: a second `up` reuses the database, keys, server and token, leaves running
           processes alone and restarts only those whose binary was rebuilt or whose command line
           changed.
  down     stop the agent, the controller and PostgreSQL (data in .tether is kept)
  status   show what runs
  test [CTEST ARGS...]
           deps + build, then ctest against a throwaway PostgreSQL; exits with ctest's status.
           ARGS go to ctest, e.g. `./dev.sh test -R output_stream` runs only matching tests
  bench [NAME] [ARGS...]
           deps + build, then benchmarks against a throwaway PostgreSQL, controller and agent:
           without NAME both in turn (exec_latency, then stream_throughput); with NAME
           (exec_latency or stream_throughput) only that one, ARGS going to it, e.g.
           `./dev.sh bench stream_throughput --runs 5`. ARGS without NAME go to exec_latency,
           as before: `./dev.sh bench --count 200`. `./dev.sh bench ssh_compare [--count N]`
           times `ssh 127.0.0.1 true` against a throwaway sshd instead (installing openssh-server
           and openssh-client when missing). `./dev.sh bench fanout|scheduler_lateness|agent_swarm
           [ARGS]` runs one fleet benchmark against a throwaway PostgreSQL and controller with no
           real agent: the benchmark connects thousands of simulated ones itself. See bench/README.md.
  fuzz [TARGET] [--seconds N]
           build the libFuzzer targets with clang in build-fuzz/ and run each (or TARGET) for
           N seconds (default 60), one after another; new inputs go to a scratch corpus, the
           checked-in seeds are only read.
           Findings go to build-fuzz/findings/TARGET/ and make the command fail. See fuzz/README.md.

Settings (environment): TETHER_DEV_PORT (controller port for `up`, default 8443),
TETHER_DEV_PG_PORT (PostgreSQL port chosen at the first `up`, default 55432 or a free one),
TETHER_DEV_BUILD_DIR (build directory, default build/).
Other TETHER_* variables of the calling shell are ignored.
Removing .tether (after `./dev.sh down`) starts `up` from scratch.
EOF
}

# --- deps / build ----------------------------------------------------------------------------

# `postgresql` is here for its server programs (initdb, pg_ctl). The cluster Debian creates with
# it (and may start on port 5432) is never used: up, test and bench run clusters of their own.
cmd_deps() {
  apt_install_missing "${APT_PACKAGES[@]}"
}

# apt_install_missing PACKAGE...: installs those of the Debian packages that are not installed.
apt_install_missing() {
  local package missing=()
  for package in "$@"; do
    if [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true) != "install ok installed" ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# cmd_build [TARGET...]: everything, or only the given targets (up needs just the two binaries,
# not the test and benchmark programs).
cmd_build() {
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  ninja -C "$BUILD_DIR" "$@"
}

require_binaries() {
  local binary
  for binary in "$@"; do
    [[ -x $binary ]] || die "$binary was not built"
  done
}

# --- the kept development stack in .tether ---------------------------------------------------

# Where the development cluster lives; sets DEV_PG_DATA and DEV_PG_SOCKET. Normally in .tether.
# When the server's account (postgres, when we are root) cannot reach .tether, for instance in a
# checkout under /root (mode 700), or when the path is too long for a unix socket, the cluster goes
# to /var/tmp/tether-<hash of the checkout path> and .tether/pgdata becomes a symlink to it.
dev_locate_postgres() {
  if [[ -L $STATE_DIR/pgdata ]]; then
    DEV_PG_DATA=$(readlink -f "$STATE_DIR/pgdata")
    DEV_PG_SOCKET=$(dirname "$DEV_PG_DATA")/pgsocket
    return 0
  fi
  if [[ -d $STATE_DIR/pgdata ]] || { pg_owner_can_reach "$STATE_DIR" && ((${#STATE_DIR} <= 80)); }; then
    DEV_PG_DATA=$STATE_DIR/pgdata
    DEV_PG_SOCKET=$STATE_DIR/pgsocket
    return 0
  fi
  local elsewhere
  elsewhere=/var/tmp/tether-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
  mkdir -p "$elsewhere"
  [[ -O $elsewhere && ! -L $elsewhere ]] || die "$elsewhere exists and is not ours; remove it or move the checkout"
  chmod 711 "$elsewhere"
  DEV_PG_DATA=$elsewhere/pgdata
  DEV_PG_SOCKET=$elsewhere/pgsocket
  ln -sfn "$DEV_PG_DATA" "$STATE_DIR/pgdata"
  say "PostgreSQL's account cannot reach $STATE_DIR (or the path is too long for a socket):"
  say "its data goes to $DEV_PG_DATA, linked from .tether/pgdata"
}

dev_prepare_state_dir() {
  mkdir -p "$STATE_DIR/logs"
  chmod 700 "$STATE_DIR/logs"
  if running_as_root; then
    chmod 711 "$STATE_DIR" # postgres may enter, nobody else may list; the secrets inside are 0600
  else
    chmod 700 "$STATE_DIR"
  fi
}

# dev_read FILE NAME: prints variable NAME as set by the shell file FILE (empty when absent),
# without letting the file's exports leak into this script's environment.
dev_read() {
  local file=$1 name=$2
  [[ -f $file ]] || return 0
  (
    # shellcheck disable=SC1090
    source "$file"
    printf '%s' "${!name-}"
  )
}

dev_write_env() {
  local file=$STATE_DIR/dev.env
  (
    umask 077
    {
      printf '# The development stack of ./dev.sh up. Holds secrets: keep it private (mode 600).\n'
      printf '# Use: source .tether/dev.env\n'
      printf 'export TETHER_URL=%q\n' "$API_URL"
      printf 'export TETHER_CA_FILE=%q\n' "$STATE_DIR/tls/cert.pem"
      printf 'export TETHER_ADMIN_KEY=%q\n' "$ADMIN_KEY"
      printf 'export TETHER_RCA_KEY=%q\n' "$RCA_KEY"
      printf 'export TETHER_SERVER_ID=%q\n' "$SERVER_ID"
      printf 'export TETHER_DATABASE_URL=%q\n' "$DATABASE_URL"
    } >"$file.new"
    mv "$file.new" "$file"
  )
  chmod 600 "$file"
}

dev_write_agent_env() {
  (
    umask 077
    printf 'TETHER_TOKEN=%q\n' "$AGENT_TOKEN" >"$STATE_DIR/agent.env.new"
    mv "$STATE_DIR/agent.env.new" "$STATE_DIR/agent.env"
  )
  chmod 600 "$STATE_DIR/agent.env"
}

dev_ensure_tls() {
  local tls=$STATE_DIR/tls
  [[ -s $tls/cert.pem && -s $tls/key.pem ]] && return 0
  say "creating a self-signed TLS certificate for 127.0.0.1 and localhost in $tls"
  mkdir -p "$tls"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -days 825 \
      -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
  )
  chmod 644 "$tls/cert.pem"
}

# The controller's AES-256-GCM key for registry passwords: made once, kept with the database.
dev_ensure_master_key() {
  local key_file=$STATE_DIR/master.key
  [[ -s $key_file ]] && return 0
  say "creating the controller's master key in $key_file"
  (
    umask 077
    openssl rand -hex 32 >"$key_file"
  )
}

dev_choose_pg_port() {
  local stored=
  [[ -f $STATE_DIR/pgport ]] && stored=$(<"$STATE_DIR/pgport")
  if pg_is_running "$DEV_PG_DATA" && [[ -n $stored ]]; then
    DEV_PG_PORT=$stored
    return 0
  fi
  if [[ -n $stored ]] && port_is_free "$stored"; then
    DEV_PG_PORT=$stored
  else
    DEV_PG_PORT=$(pick_free_port "${stored:-${TETHER_DEV_PG_PORT:-55432}}")
    [[ -z $stored ]] || say "PostgreSQL's port $stored is taken; moving to $DEV_PG_PORT"
  fi
  printf '%s\n' "$DEV_PG_PORT" >"$STATE_DIR/pgport"
}

dev_choose_controller_port() {
  local stored=
  [[ -f $STATE_DIR/controller.port ]] && stored=$(<"$STATE_DIR/controller.port")
  DEV_PORT=${TETHER_DEV_PORT:-${stored:-8443}}
  [[ $DEV_PORT =~ ^[0-9]+$ ]] || die "TETHER_DEV_PORT must be a port number"
  local ours_holds_it=false
  if [[ $DEV_PORT == "$stored" ]] && daemon_running "$STATE_DIR" controller "$CONTROLLER_BIN"; then
    ours_holds_it=true
  fi
  if ! $ours_holds_it && ! port_is_free "$DEV_PORT"; then
    die "port $DEV_PORT on 127.0.0.1 is taken; choose another with TETHER_DEV_PORT=N ./dev.sh up"
  fi
  printf '%s\n' "$DEV_PORT" >"$STATE_DIR/controller.port"
}

cmd_up() {
  cmd_deps
  cmd_build tether-controller tether-agent
  require_binaries "$CONTROLLER_BIN" "$AGENT_BIN"
  dev_prepare_state_dir
  local logs=$STATE_DIR/logs

  dev_locate_postgres
  dev_choose_pg_port
  pg_start "$DEV_PG_DATA" "$DEV_PG_SOCKET" "$DEV_PG_PORT"
  ln -sfn "$DEV_PG_DATA/server.log" "$logs/postgres.log"
  pg_ensure_database "$DEV_PG_PORT" tether
  DATABASE_URL=$(pg_url "$DEV_PG_PORT" tether)

  dev_ensure_tls
  dev_ensure_master_key
  dev_choose_controller_port
  API_URL=https://127.0.0.1:$DEV_PORT
  API_CURL_TLS=(--cacert "$STATE_DIR/tls/cert.pem")
  stack_start_controller "$STATE_DIR" "$logs" "127.0.0.1:$DEV_PORT" "$DATABASE_URL" \
    --tls-cert "$STATE_DIR/tls/cert.pem" --tls-key "$STATE_DIR/tls/key.pem" \
    --master-key-file "$STATE_DIR/master.key"
  say "controller: $DAEMON_ACTION (log .tether/logs/controller.log)"
  stack_wait_healthy "$STATE_DIR" "$logs" 60

  # Keys and the server are reused while the database still knows them; after the database was
  # reset they are made again.
  ADMIN_KEY=$(dev_read "$STATE_DIR/dev.env" TETHER_ADMIN_KEY)
  if [[ -n $ADMIN_KEY ]]; then
    api_call GET /api/servers "$ADMIN_KEY"
    if [[ $API_STATUS == 401 ]]; then
      ADMIN_KEY=
    fi
  fi
  if [[ -z $ADMIN_KEY ]]; then
    say "creating the admin key dev-admin"
    ADMIN_KEY=$(stack_create_admin_key "$DATABASE_URL" dev-admin)
  fi

  # The first admin user: made once, with a generated password that is printed only then (it is
  # stored nowhere but as its PBKDF2 hash).
  local admin_user_line="admin        (password printed when it was created; reset it with POST /api/admin/users)"
  # The users list is paged (by username); one page of 1,000 holds every user of a dev stack.
  api_call GET "/api/admin/users?limit=1000" "$ADMIN_KEY"
  if [[ $API_STATUS == 200 ]] && ! jq -e 'any(.[]; .username == "admin")' >/dev/null <<<"$API_BODY"; then
    local admin_password
    admin_password="Tether-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    say "creating the admin user 'admin'"
    printf '%s\n' "$admin_password" |
      "$CONTROLLER_BIN" admin create-user --username admin --role admin --database-url "$DATABASE_URL" \
        --log-level warn >/dev/null || die "'tether-controller admin create-user' failed"
    admin_user_line="admin        password $admin_password   (shown once: note it now)"
  fi

  SERVER_ID=$(dev_read "$STATE_DIR/dev.env" TETHER_SERVER_ID)
  AGENT_TOKEN=$(dev_read "$STATE_DIR/agent.env" TETHER_TOKEN)
  RCA_KEY=$(dev_read "$STATE_DIR/dev.env" TETHER_RCA_KEY)
  local server_known=false
  if [[ -n $SERVER_ID && -n $AGENT_TOKEN ]]; then
    api_call GET "/api/servers/$SERVER_ID" "$ADMIN_KEY"
    if [[ $API_STATUS == 200 ]] && jq -e '.status != "decommissioned"' >/dev/null <<<"$API_BODY"; then
      server_known=true
    fi
  fi
  if ! $server_known; then
    say "registering the server 'local'"
    stack_create_server "$ADMIN_KEY" local
    dev_write_agent_env
    # The agent's journal belongs to the server it served before; the new one starts clean.
    rm -rf "$STATE_DIR/agent-state"
    RCA_KEY=
  fi

  if [[ -n $RCA_KEY ]]; then
    # Any answer but 401 for an unknown operation means the key is still accepted.
    api_call GET /api/automation/v1/operations/00000000-0000-0000-0000-000000000000 "$RCA_KEY"
    if [[ $API_STATUS == 401 ]]; then
      RCA_KEY=
    fi
  fi
  if [[ -z $RCA_KEY ]]; then
    say "creating the automation key dev-ci for server 'local'"
    RCA_KEY=$(stack_create_automation_key "$ADMIN_KEY" dev-ci "$SERVER_ID")
  fi
  dev_write_env

  stack_start_agent "$STATE_DIR" "$logs" "$AGENT_TOKEN" "$STATE_DIR/agent-state" \
    --ca-file "$STATE_DIR/tls/cert.pem"
  say "agent: $DAEMON_ACTION (log .tether/logs/agent.log)"
  stack_wait_server_active "$STATE_DIR" "$logs" "$ADMIN_KEY" "$SERVER_ID" 60

  local example
  example=$(jq -cn --arg server "$SERVER_ID" '{server_id: $server, command: "uname -a"}')
  cat <<EOF

Tether is up.
  URL          $API_URL   (self-signed; CA file $STATE_DIR/tls/cert.pem)
  admin key    $ADMIN_KEY
  admin user   $admin_user_line
  rca_ key     $RCA_KEY
  server       local  $SERVER_ID  (active)
  database     $DATABASE_URL
  logs         $logs/
All of it is in .tether/dev.env (source .tether/dev.env).

Run \`uname -a\` through the agent:
  curl -sS --cacert $STATE_DIR/tls/cert.pem \\
    -H 'Authorization: Bearer $RCA_KEY' -H 'Content-Type: application/json' \\
    -d '$example' \\
    $API_URL/api/automation/v1/exec

Stop everything with ./dev.sh down.
EOF
}

cmd_down() {
  daemon_stop "$STATE_DIR" agent "$AGENT_BIN"
  daemon_stop "$STATE_DIR" controller "$CONTROLLER_BIN"
  if [[ -e $STATE_DIR/pgdata ]]; then
    dev_locate_postgres
    pg_stop "$DEV_PG_DATA"
  fi
  say "stopped (data kept in .tether)"
}

cmd_status() {
  local name binary
  for name in controller agent; do
    binary=$CONTROLLER_BIN
    [[ $name == agent ]] && binary=$AGENT_BIN
    if daemon_running "$STATE_DIR" "$name" "$binary"; then
      printf '%-11s running (pid %s)\n' "$name" "$(daemon_pid "$STATE_DIR" "$name")"
    else
      printf '%-11s stopped\n' "$name"
    fi
  done
  if [[ -e $STATE_DIR/pgdata ]]; then
    dev_locate_postgres
    if pg_is_running "$DEV_PG_DATA"; then
      printf '%-11s running (port %s, data %s)\n' postgresql "$(<"$STATE_DIR/pgport")" "$DEV_PG_DATA"
    else
      printf '%-11s stopped\n' postgresql
    fi
  else
    printf '%-11s not created yet\n' postgresql
  fi
}

# --- throwaway stacks for test and bench -----------------------------------------------------

THROWAWAY_DIR=

# EXIT trap of `test` and `bench`: stops whatever the throwaway directory holds and removes it.
throwaway_cleanup() {
  local status=$?
  stop_own_group
  if [[ -n $THROWAWAY_DIR && -d $THROWAWAY_DIR ]]; then
    if ((status != 0)); then
      show_log_tails "$THROWAWAY_DIR/logs/controller.log" "$THROWAWAY_DIR/logs/agent.log"
    fi
    stack_stop "$THROWAWAY_DIR"
    pg_stop "$THROWAWAY_DIR/pgdata" || warn "could not stop the throwaway PostgreSQL"
    rm -rf "$THROWAWAY_DIR"
  fi
  exit "$status"
}

throwaway_begin() {
  THROWAWAY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tether-$1.XXXXXX")
  trap throwaway_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The OpenAPI test validates the document with an npm package (tests/openapi/validate.sh): it
# needs Node.js and npm. A machine that has them from elsewhere (NodeSource, say) keeps its own.
test_deps() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install_missing nodejs npm
  fi
}

cmd_test() {
  cmd_deps
  test_deps
  cmd_build
  throwaway_begin test
  # Durability is pointless for a database that is deleted afterwards; these make tests faster.
  pg_start_throwaway "$THROWAWAY_DIR" 'fsync = off' 'synchronous_commit = off' 'full_page_writes = off'
  export TETHER_TEST_DATABASE_URL
  TETHER_TEST_DATABASE_URL=$(pg_url "$PG_THROWAWAY_PORT" postgres)
  say "throwaway PostgreSQL on 127.0.0.1:$PG_THROWAWAY_PORT; running ctest"
  local status=0
  # --no-tests=error: a run that finds no tests fails instead of passing vacuously.
  run_in_own_group ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900 --no-tests=error "$@" || status=$?
  exit "$status"
}

# bench_selection ARGS...: sets BENCH_NAMES (which benchmarks run) and BENCH_ARGS (their extra
# arguments; only ever given to a single benchmark).
bench_selection() {
  BENCH_NAMES=("${BENCHMARKS[@]}")
  BENCH_ARGS=()
  if (($# == 0)); then
    return 0
  fi
  local name
  for name in "${BENCHMARKS[@]}"; do
    if [[ $1 == "$name" ]]; then
      BENCH_NAMES=("$name")
      BENCH_ARGS=("${@:2}")
      return 0
    fi
  done
  # Flags without a name go to exec_latency, as when it was the only benchmark.
  [[ $1 == -* ]] || die "unknown benchmark '$1' (known: ${BENCHMARKS[*]} ${FLEET_BENCHMARKS[*]} ssh_compare)"
  BENCH_NAMES=(exec_latency)
  BENCH_ARGS=("$@")
}

# ssh_compare needs no Tether stack, only an sshd and ssh, which nothing else needs: they are
# installed when this benchmark is asked for. (Debian's openssh-server also sets up the machine's
# own sshd service on port 22; the benchmark runs a throwaway sshd of its own and never uses it.)
cmd_bench_ssh_compare() {
  apt_install_missing openssh-server openssh-client
  "$ROOT/bench/ssh_compare.sh" "$@"
}

# Fleet benchmarks: a throwaway PostgreSQL and a controller on plain HTTP, no real agent. The
# benchmark registers its servers with the admin key (TETHER_ADMIN_KEY in its environment, not on
# its command line) and connects a simulated agent for each (bench/agent_swarm.hpp).
cmd_bench_fleet() {
  local name=$1
  shift
  cmd_deps
  cmd_build
  require_binaries "$BENCH_DIR/$name" "$CONTROLLER_BIN"
  # 10,000 agent sockets: the controller (started from here) inherits this limit. The benchmark
  # raises its own soft limit to the hard one.
  local hard
  hard=$(ulimit -Hn)
  [[ $hard == unlimited ]] && hard=1048576
  ulimit -n "$hard" || warn "could not raise the open file limit to $hard"
  [[ $(ulimit -n) == unlimited ]] || (($(ulimit -n) >= 10240)) ||
    warn "open file limit $(ulimit -n): fewer than 10,000 agents will fit"
  throwaway_begin bench
  local logs=$THROWAWAY_DIR/logs
  pg_start_throwaway "$THROWAWAY_DIR"
  pg_ensure_database "$PG_THROWAWAY_PORT" tether
  local database_url port admin_key controller_pid status=0
  database_url=$(pg_url "$PG_THROWAWAY_PORT" tether)
  port=$(pick_free_port)
  API_URL=http://127.0.0.1:$port
  API_CURL_TLS=()
  # Agent WebSockets count toward neither connection cap; a connection does count while its TLS
  # and WebSocket handshakes are in flight, and the benchmarks keep at most 200 of those.
  stack_start_controller "$THROWAWAY_DIR" "$logs" "127.0.0.1:$port" "$database_url" --db-pool-size 8
  stack_wait_healthy "$THROWAWAY_DIR" "$logs" 60
  admin_key=$(stack_create_admin_key "$database_url" bench-admin)
  controller_pid=$(daemon_pid "$THROWAWAY_DIR" controller)
  say "stack ready (controller $API_URL, pid $controller_pid, no agent; PostgreSQL 127.0.0.1:$PG_THROWAWAY_PORT)"
  say "running $name"
  TETHER_ADMIN_KEY=$admin_key run_in_own_group "$BENCH_DIR/$name" --url "$API_URL" \
    --controller-pid "$controller_pid" "$@" || status=$?
  return "$status"
}

cmd_bench() {
  if [[ ${1-} == ssh_compare ]]; then
    cmd_bench_ssh_compare "${@:2}"
    return
  fi
  local fleet
  for fleet in "${FLEET_BENCHMARKS[@]}"; do
    if [[ ${1-} == "$fleet" ]]; then
      cmd_bench_fleet "$@"
      return
    fi
  done
  bench_selection "$@"
  cmd_deps
  cmd_build
  local name
  for name in "${BENCH_NAMES[@]}"; do
    require_binaries "$BENCH_DIR/$name"
  done
  require_binaries "$CONTROLLER_BIN" "$AGENT_BIN"
  throwaway_begin bench
  local logs=$THROWAWAY_DIR/logs
  # PostgreSQL keeps its default durability here: the figures should be those of a real setup.
  pg_start_throwaway "$THROWAWAY_DIR"
  pg_ensure_database "$PG_THROWAWAY_PORT" tether
  local database_url port admin_key rca_key=
  database_url=$(pg_url "$PG_THROWAWAY_PORT" tether)
  port=$(pick_free_port)
  API_URL=http://127.0.0.1:$port
  API_CURL_TLS=()

  # stream_throughput needs exec to answer "running" with the operation id while its command
  # waits for the go signal; a 1 s wait cap does that and leaves exec_latency's `true` alone.
  stack_start_controller "$THROWAWAY_DIR" "$logs" "127.0.0.1:$port" "$database_url" --sync-wait-cap-seconds 1
  stack_wait_healthy "$THROWAWAY_DIR" "$logs" 60
  admin_key=$(stack_create_admin_key "$database_url" bench-admin)
  stack_create_server "$admin_key" bench
  # A key may make at most 1000 requests a minute; exec_latency makes about 3000 in well under a
  # minute, so it takes turns with several keys at the highest rate.
  local bench_key
  for _ in 1 2 3 4 5 6; do
    bench_key=$(stack_create_automation_key "$admin_key" bench "$SERVER_ID" 1000)
    rca_key=${rca_key:+$rca_key,}$bench_key
  done
  stack_start_agent "$THROWAWAY_DIR" "$logs" "$AGENT_TOKEN" "$THROWAWAY_DIR/agent-state"
  stack_wait_server_active "$THROWAWAY_DIR" "$logs" "$admin_key" "$SERVER_ID" 60

  local controller_pid status=0
  controller_pid=$(daemon_pid "$THROWAWAY_DIR" controller)
  say "stack ready (controller $API_URL, pid $controller_pid; PostgreSQL 127.0.0.1:$PG_THROWAWAY_PORT)"
  for name in "${BENCH_NAMES[@]}"; do
    say "running $name"
    local extra=()
    [[ $name == stream_throughput ]] && extra=(--controller-pid "$controller_pid")
    TETHER_RCA_KEY=$rca_key run_in_own_group "$BENCH_DIR/$name" --url "$API_URL" --server-id "$SERVER_ID" \
      "${extra[@]}" "${BENCH_ARGS[@]}" || status=$?
  done
  return "$status"
}

# --- fuzzing --------------------------------------------------------------------------------

# clang with libFuzzer, ASan and UBSan, in a build directory of its own: the main build is g++.
fuzz_build() {
  if [[ ! -f $FUZZ_BUILD_DIR/build.ninja ]]; then
    cmake -S "$ROOT" -B "$FUZZ_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DTETHER_FUZZING=ON
  fi
  ninja -C "$FUZZ_BUILD_DIR"
}

cmd_fuzz() {
  local only='' seconds=60
  while (($# > 0)); do
    case $1 in
      --seconds)
        [[ ${2-} =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive number"
        seconds=$2
        shift 2
        ;;
      -*) die "unknown option $1 (fuzz [TARGET] [--seconds N])" ;;
      *)
        [[ -z $only ]] || die "one TARGET at most"
        only=$1
        shift
        ;;
    esac
  done
  cmd_deps
  fuzz_build
  # name, binary and seed corpus of each target, one a line, as fuzz/CMakeLists.txt wrote them
  local list=$FUZZ_BUILD_DIR/fuzz/targets.txt name binary seeds ran=0 found=()
  [[ -z $only ]] || grep -q "^$only " "$list" || die "unknown fuzz target '$only' (known: $(cut -d' ' -f1 "$list" | xargs))"
  while read -r name binary seeds; do
    [[ -z $only || $name == "$only" ]] || continue
    ran=$((ran + 1))
    # New inputs go to a scratch corpus (the first directory); the checked-in seeds stay as they are.
    local run=$FUZZ_BUILD_DIR/runs/$name findings=$FUZZ_BUILD_DIR/findings/$name
    rm -rf "$run"
    mkdir -p "$run/corpus" "$findings"
    local dict=()
    [[ $name == output_frame ]] || dict=(-dict="$ROOT/fuzz/json.dict")
    say "fuzzing $name for ${seconds}s (log $run/fuzz.log)"
    # -timeout is wall-clock time per input: these parsers take well under a millisecond, so a
    # minute means a hang even on a machine so busy that 10 s was once reached by waiting alone.
    local status=0
    "$binary" "$run/corpus" "$seeds" "${dict[@]}" -max_total_time="$seconds" -timeout=60 \
      -print_final_stats=1 -artifact_prefix="$findings/" >"$run/fuzz.log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
      "$run/fuzz.log" | sed "s/^/  $name: /" || true
    if ((status != 0)); then
      grep -E 'ERROR|runtime error|broken promise|SUMMARY' "$run/fuzz.log" | head -5 | sed "s/^/  $name: /" || true
      found+=("$name")
    fi
  done <"$list"
  if ((${#found[@]} > 0)); then
    warn "findings in: ${found[*]}; inputs in $FUZZ_BUILD_DIR/findings/ (replay one: BINARY FILE)"
    return 1
  fi
  say "no findings in $ran target(s)"
}

main() {
  forget_inherited_tether_settings
  local command=${1:-help}
  if (($# > 0)); then
    shift
  fi
  case $command in
    deps) cmd_deps ;;
    build) cmd_build ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    test) cmd_test "$@" ;;
    bench) cmd_bench "$@" ;;
    fuzz) cmd_fuzz "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

# Sourcing dev.sh (instead of running it) defines the functions without running anything.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
