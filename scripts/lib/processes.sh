# shellcheck shell=bash
# Background processes (controller, agent) tracked by pid files. Source after common.sh.
#
# Each process NAME has, in the directory RUN_DIR given to every call:
#   NAME.pid          its process id
#   NAME.fingerprint  a hash of what it was started from: the binary's identity (inode, size,
#                     mtime), its arguments and any extra state the caller folds in (for the
#                     agent: its token). A different fingerprint means the process is stale.
# and its output goes to LOG_DIR/NAME.log.

# DAEMON_ACTION is read by the callers.
# shellcheck disable=SC2034

# daemon_running RUN_DIR NAME BINARY: true when NAME.pid names a live process started from BINARY
# (comparing argv[0], so a recycled pid does not count).
daemon_running() {
  local run_dir=$1 name=$2 binary=$3 pid argv0=
  [[ -s $run_dir/$name.pid ]] || return 1
  pid=$(<"$run_dir/$name.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" || true
  [[ $argv0 == "$binary" ]]
}

daemon_pid() {
  cat "$1/$2.pid"
}

# daemon_fingerprint EXTRA BINARY ARGS...
daemon_fingerprint() {
  local extra=$1 binary=$2
  shift 2
  {
    stat -L -c '%i %s %Y' "$binary"
    printf '%s\n' "$binary" "$@"
    printf '%s\n' "$extra"
  } | sha256sum | cut -d' ' -f1
}

# daemon_start RUN_DIR LOG_DIR NAME EXTRA BINARY ARGS...
# Starts BINARY ARGS... in the background with the current environment and records its pid and
# fingerprint. setsid gives it a session of its own, so a Ctrl-C meant for dev.sh never reaches
# it; without job control the background child is no group leader, so setsid execs in place and
# $! is the binary's pid.
daemon_start() {
  local run_dir=$1 log_dir=$2 name=$3 extra=$4 binary=$5
  shift 5
  mkdir -p "$run_dir" "$log_dir"
  setsid nohup "$binary" "$@" >>"$log_dir/$name.log" 2>&1 </dev/null &
  local pid=$! tick
  printf '%s\n' "$pid" >"$run_dir/$name.pid"
  daemon_fingerprint "$extra" "$binary" "$@" >"$run_dir/$name.fingerprint"
  # Until setsid and nohup have exec'd the binary, the pid still shows their names; wait for
  # that so daemon_running answers truthfully from here on.
  for ((tick = 0; tick < 100; tick++)); do
    daemon_running "$run_dir" "$name" "$binary" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  show_log_tails "$log_dir/$name.log"
  die "$name did not start ($binary)"
}

# daemon_stop RUN_DIR NAME BINARY: SIGTERM, then SIGKILL after 15 s; removes the pid file.
daemon_stop() {
  local run_dir=$1 name=$2 binary=$3 pid waited
  if daemon_running "$run_dir" "$name" "$binary"; then
    pid=$(daemon_pid "$run_dir" "$name")
    kill -TERM "$pid" 2>/dev/null || true
    for ((waited = 0; waited < 150; waited++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "$name (pid $pid) ignored SIGTERM for 15 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$run_dir/$name.pid" "$run_dir/$name.fingerprint"
}

# daemon_ensure RUN_DIR LOG_DIR NAME EXTRA BINARY ARGS...
# Leaves a running NAME alone when its fingerprint matches; restarts it when the binary was
# rebuilt or its arguments (or EXTRA) changed; starts it when it is not running. Sets
# DAEMON_ACTION to kept, restarted or started.
daemon_ensure() {
  local run_dir=$1 log_dir=$2 name=$3 extra=$4 binary=$5
  shift 5
  local wanted current=
  wanted=$(daemon_fingerprint "$extra" "$binary" "$@")
  if daemon_running "$run_dir" "$name" "$binary"; then
    [[ -f $run_dir/$name.fingerprint ]] && current=$(<"$run_dir/$name.fingerprint")
    if [[ $current == "$wanted" ]]; then
      DAEMON_ACTION=kept
      return 0
    fi
    daemon_stop "$run_dir" "$name" "$binary"
    DAEMON_ACTION=restarted
  else
    DAEMON_ACTION=started
  fi
  daemon_start "$run_dir" "$log_dir" "$name" "$extra" "$binary" "$@"
}
