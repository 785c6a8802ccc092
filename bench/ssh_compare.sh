#!/usr/bin/env bash
# ssh_compare: what one `ssh 127.0.0.1 true` costs on this machine, the figure README.md sets
# next to exec_latency's (a CI job that runs each command over a fresh ssh connection pays it
# every time). Starts a throwaway sshd on 127.0.0.1 with generated host and client keys, times
# COUNT sequential `ssh ... true` runs (a new connection each: key exchange, authentication,
# session, `true`), prints min, p50, p99 and max in ms, and stops the sshd. Nothing of the
# machine's own ssh setup is used or changed (no ~/.ssh, no /etc/ssh/sshd_config).
#
#   bench/ssh_compare.sh [--count 100] [--warmup 3]     (or ./dev.sh bench ssh_compare ...)
#
# Needs openssh-server and openssh-client; `./dev.sh bench ssh_compare` installs them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

count=100
warmup=3
while (($# > 0)); do
  case $1 in
    --count | --warmup)
      [[ ${2-} =~ ^[0-9]+$ ]] || die "$1 needs a number"
      if [[ $1 == --count ]]; then count=$2; else warmup=$2; fi
      shift 2
      ;;
    *) die "unknown argument $1 (ssh_compare [--count N] [--warmup N])" ;;
  esac
done
((count > 0)) || die "--count must be at least 1"

SSHD=/usr/sbin/sshd
[[ -x $SSHD ]] || die "$SSHD is missing (apt-get install openssh-server)"
command -v ssh >/dev/null || die "ssh is missing (apt-get install openssh-client)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/tether-ssh-compare.XXXXXX")
sshd_pid=
cleanup() {
  local status=$?
  if [[ -n $sshd_pid ]]; then
    kill "$sshd_pid" 2>/dev/null || true
    wait "$sshd_pid" 2>/dev/null || true
  fi
  if ((status != 0)) && [[ -s $dir/sshd.log ]]; then
    show_log_tails "$dir/sshd.log"
  fi
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ssh-keygen -q -t ed25519 -N '' -C tether-bench-host -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -C tether-bench-client -f "$dir/client_key"
cp "$dir/client_key.pub" "$dir/authorized_keys"
port=$(pick_free_port "")
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"

# Debian's defaults (PAM included) apart from where the keys are and which port it listens on.
cat >"$dir/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile none
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
CONFIG
# sshd started as root insists on its privilege separation directory (Debian's service makes it).
if running_as_root; then
  mkdir -p /run/sshd
fi
"$SSHD" -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
  port_is_free "$port" || break
  kill -0 "$sshd_pid" 2>/dev/null || die "sshd did not start"
  sleep 0.1
done
! port_is_free "$port" || die "sshd does not listen on 127.0.0.1:$port"

ssh_true() {
  ssh -F /dev/null -p "$port" -i "$dir/client_key" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$dir/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o LogLevel=ERROR -l "$(id -un)" 127.0.0.1 true </dev/null
}

for ((i = 0; i < warmup; i++)); do
  ssh_true || die "ssh 127.0.0.1 true failed (see the sshd log above)"
done
say "timing $count sequential 'ssh 127.0.0.1 true' (sshd on 127.0.0.1:$port, ed25519 keys)"
samples=()
for ((i = 0; i < count; i++)); do
  start=$EPOCHREALTIME
  ssh_true || die "ssh 127.0.0.1 true failed on run $((i + 1))"
  end=$EPOCHREALTIME
  # microseconds, from the shell's clock (EPOCHREALTIME is seconds with six decimals)
  samples+=($((10#${end/./} - 10#${start/./})))
done

# nearest-rank percentiles, as exec_latency prints them
mapfile -t sorted < <(printf '%s\n' "${samples[@]}" | sort -n)
rank() { # rank P: the sample at nearest rank ceil(P/100 * count)
  local r=$(((${1} * count + 99) / 100))
  ((r < 1)) && r=1
  printf '%s' "${sorted[r - 1]}"
}
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
printf '%-8s %-8s %-8s %-8s %-8s %s\n' runs min_ms p50_ms p99_ms max_ms per_s
printf '%-8s %-8s %-8s %-8s %-8s %s\n' "$count" "$(ms "${sorted[0]}")" "$(ms "$(rank 50)")" \
  "$(ms "$(rank 99)")" "$(ms "${sorted[count - 1]}")" \
  "$(awk -v us="$(rank 50)" 'BEGIN { printf "%.1f", 1e6 / us }')"
printf 'load average while timing: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
