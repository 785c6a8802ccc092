# shellcheck shell=bash
# Small helpers shared by dev.sh and the scripts it sources. Source, do not execute.

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

running_as_root() { [[ $EUID -eq 0 ]]; }

# Runs a command with root rights: directly when we are root, through sudo otherwise.
as_root() {
  if running_as_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "'$*' needs root and sudo is not installed; run this as root once"
  fi
}

# True when nothing accepts TCP connections on 127.0.0.1:PORT. A refused connection means free.
port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints PREFERRED when it is free, otherwise a free port picked at random from 20000-59999.
pick_free_port() {
  local preferred=${1:-}
  if [[ -n $preferred ]] && port_is_free "$preferred"; then
    printf '%s\n' "$preferred"
    return 0
  fi
  local attempt candidate
  for ((attempt = 0; attempt < 100; attempt++)); do
    candidate=$((20000 + RANDOM % 40000))
    if port_is_free "$candidate"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  die "no free TCP port found on 127.0.0.1"
}

# Prints the last lines of each existing log file, so a failure explains itself.
show_log_tails() {
  local log
  for log in "$@"; do
    [[ -s $log ]] || continue
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n 40 "$log" >&2 || true
  done
}

# Removes every TETHER_* variable inherited from the caller's shell (for instance after
# `source .tether/dev.env`), so the binaries we start see only the settings we pass on purpose.
# TETHER_DEV_* variables are dev.sh's own knobs and are kept.
forget_inherited_tether_settings() {
  local name
  for name in $(compgen -e); do
    if [[ $name == TETHER_* && $name != TETHER_DEV_* ]]; then
      unset "$name"
    fi
  done
}

# run_in_own_group CMD...: runs CMD in a process group of its own and waits for it. Waiting with
# `wait` (not in the foreground) lets a signal sent to this script alone run its traps at once
# instead of after CMD ends, and the trap can then end all of CMD's processes with
# stop_own_group, which Ctrl-C alone would not reach once CMD has its own group. When CMD itself
# dies (kill -9 of ctest), what it started is ended too, before the caller's cleanup stops the
# database those processes use.
OWN_GROUP_LEADER=
run_in_own_group() {
  setsid "$@" &
  OWN_GROUP_LEADER=$!
  local status=0
  wait "$OWN_GROUP_LEADER" || status=$?
  stop_own_group
  return "$status"
}

stop_own_group() {
  if [[ -n $OWN_GROUP_LEADER ]]; then
    kill -TERM -- "-$OWN_GROUP_LEADER" 2>/dev/null || true
    OWN_GROUP_LEADER=
  fi
}
