#!/usr/bin/env bash
# Installs the Tether agent on this server and starts it with systemd.
#
#   printf '%s\n' "$AGENT_TOKEN" | sudo ./install-agent.sh --controller https://tether.example.com:8443 \
#       [--ca-file controller-ca.pem] [--binary ./tether-agent] [--unit ./tether-agent.service]
#
# The agent token (tat_..., shown once by POST /api/servers) is read from standard input, or
# from the TETHER_TOKEN environment variable when that is set (handy when the caller already
# runs as root, as cloud-init does). It is never taken as an argument: arguments are visible to
# every user in `ps` and end up in shell histories. At a terminal, the script asks for it
# without echoing.
#
# What it does (running it again updates the binary and settings and restarts the agent):
#   /usr/local/bin/tether-agent                    the binary (--binary)
#   /etc/tether/agent.conf                         settings and token, mode 600
#   /etc/tether/controller-ca.pem                  the CA to trust for the controller (--ca-file)
#   /etc/systemd/system/tether-agent.service       the unit (--unit), enabled and (re)started
#   /var/lib/tether-agent                          state, created by systemd (StateDirectory=)
#
# --root DIR installs into DIR instead of / and leaves systemd alone (for packaging and tests).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
controller=
ca_file=
binary=
unit=$here/tether-agent.service
log_level=info
root=

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  printf 'install-agent: %s\n' "$*" >&2
  exit 1
}

# need_value FLAG ARGS...: dies unless FLAG is followed by a value.
need_value() {
  (($# >= 2)) || die "$1 needs a value"
}

while (($# > 0)); do
  case $1 in
    --controller) need_value "$@" && controller=$2 ;;
    --ca-file) need_value "$@" && ca_file=$2 ;;
    --binary) need_value "$@" && binary=$2 ;;
    --unit) need_value "$@" && unit=$2 ;;
    --log-level) need_value "$@" && log_level=$2 ;;
    --root) need_value "$@" && root=$2 ;;
    --token | --token=*) die "the token is not accepted as an argument (ps shows arguments to everyone); pipe it to stdin or set TETHER_TOKEN" ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift 2
done

[[ $controller =~ ^https?://[^[:space:]/]+/?$ ]] || die "--controller must be http(s)://HOST[:PORT], got '$controller'"
[[ $log_level =~ ^(trace|debug|info|warn|error|off)$ ]] || die "--log-level must be trace|debug|info|warn|error|off"
[[ -n $root || $EUID -eq 0 ]] || die "run as root (sudo), or use --root DIR"
if [[ -z $binary ]]; then
  # Next to this script in a release tarball, or in the build tree of a checkout.
  for candidate in "$here/tether-agent" "$here/../build/agent/tether-agent"; do
    [[ -x $candidate ]] && binary=$candidate && break
  done
fi
[[ -n $binary && -x $binary ]] || die "no tether-agent binary found; pass --binary PATH"
[[ -f $unit ]] || die "unit file $unit not found; pass --unit PATH"
[[ -z $ca_file || -f $ca_file ]] || die "--ca-file $ca_file not found"

token=${TETHER_TOKEN-}
if [[ -z $token ]]; then
  if [[ -t 0 ]]; then
    read -r -s -p 'Agent token (tat_...): ' token
    printf '\n' >&2
  else
    read -r token || true
  fi
fi
[[ $token =~ ^tat_[0-9a-f]{64}$ ]] || die "the token must be tat_ followed by 64 hex digits"

etc=$root/etc/tether
install -d -m 755 "$root/usr/local/bin" "$etc" "$root/etc/systemd/system"
install -m 755 "$binary" "$root/usr/local/bin/tether-agent"
if [[ -n $ca_file ]]; then
  install -m 644 "$ca_file" "$etc/controller-ca.pem"
fi

# Written under umask 077 and renamed into place, so the token is never readable by others,
# not even for a moment.
(
  umask 077
  {
    printf '# Written by install-agent.sh. Holds this server'\''s agent token: keep it mode 600.\n'
    printf 'controller = %s\n' "$controller"
    printf 'token = %s\n' "$token"
    printf 'state-dir = /var/lib/tether-agent\n'
    if [[ -n $ca_file ]]; then
      printf 'ca-file = /etc/tether/controller-ca.pem\n'
    fi
    printf 'log-level = %s\n' "$log_level"
  } >"$etc/agent.conf.new"
  chmod 600 "$etc/agent.conf.new"
  mv "$etc/agent.conf.new" "$etc/agent.conf"
)

install -m 644 "$unit" "$root/etc/systemd/system/tether-agent.service"

if [[ -n $root ]]; then
  printf 'Installed into %s (systemd left alone).\n' "$root"
  exit 0
fi
systemctl daemon-reload
systemctl enable tether-agent.service
systemctl restart tether-agent.service
printf 'tether-agent is running. Follow it with: journalctl -u tether-agent -f\n'
