#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the tests, CI and `bin/horizons demo --slurm`: Debian's slurmctld and
# slurmd with munge, no systemd, no cgroups, no Docker (see README "Slurm bridge" and ../shared/STACK.md).
#
#   deploy/slurm/local-slurm.sh start    install the packages if missing (apt, as root), write slurm.conf, start
#                                        munged, slurmctld and slurmd in the background, wait until the node is idle
#   deploy/slurm/local-slurm.sh stop     stop the daemons this script started
#   deploy/slurm/local-slurm.sh status   say whether the local Slurm answers, and show the node and the queue
#   deploy/slurm/local-slurm.sh env      print the environment a client needs (SLURM_CONF, and the hooks' spool file)
#
# Environment:
#   HORIZONS_SLURM_DIR     work folder for slurm.conf, state, spool and logs (default /tmp/horizons-slurm)
#   HORIZONS_SLURM_CPUS    CPUs the node advertises (default: max(4, nproc); sleep jobs oversubscribe harmlessly)
#   HORIZONS_SLURM_SPOOL   where the hook scripts append their JSON lines (default $HORIZONS_SLURM_DIR/bridge-spool.jsonl)
#
# Exit codes: 0 ok, 1 failed to start, 3 Slurm is not installed and cannot be installed here (no apt-get, or not root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${HORIZONS_SLURM_DIR:-/tmp/horizons-slurm}"
CONF="$DIR/slurm.conf"
SPOOL="${HORIZONS_SLURM_SPOOL:-$DIR/bridge-spool.jsonl}"
HOST="$(hostname -s)"
export SLURM_CONF="$CONF"

log() { echo "local-slurm: $*" >&2; }

installed() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v squeue >/dev/null && command -v munged >/dev/null
}

install_packages() {
  installed && return 0
  if ! command -v apt-get >/dev/null; then
    log "Slurm is not installed and there is no apt-get to install it: install slurmctld, slurmd, slurm-client and munge (Debian/Ubuntu packages) yourself"
    exit 3
  fi
  if [[ "$(id -u)" != 0 ]]; then
    log "Slurm is not installed, and installing it needs root: sudo apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
    exit 3
  fi
  log "installing slurmctld slurmd slurm-client munge from the distribution's packages..."
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge; } >"$DIR/apt.log" 2>&1; then
    tail -20 "$DIR/apt.log" >&2
    log "apt-get could not install Slurm (log: $DIR/apt.log)"
    exit 3
  fi
  installed || { log "the packages installed, but slurmctld/slurmd/sbatch/munged are still not on the PATH"; exit 3; }
}

# Memory the node advertises: 80% of the machine's, in MB (RealMemory must not exceed what slurmd finds).
real_memory_mb() { awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo; }

write_conf() {
  local cpus="${HORIZONS_SLURM_CPUS:-$(( $(nproc) > 4 ? $(nproc) : 4 ))}"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  mkdir -p "$(dirname "$SPOOL")" "$DIR/hooks"
  touch "$SPOOL"
  # slurmctld runs the hooks with a bare environment: they read the spool path from spool.path next to themselves.
  cp "$HERE"/hooks/*.sh "$DIR/hooks/"
  echo "$SPOOL" >"$DIR/hooks/spool.path"
  cat >"$CONF" <<CONF
# Written by deploy/slurm/local-slurm.sh: one node, root, no systemd, no cgroups (../shared/STACK.md).
ClusterName=horizons
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Without bf_interval=1 queued jobs wait ~13 s for the backfill scheduler.
SchedulerParameters=bf_interval=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# squeue --json keeps finished jobs this long (the bridge's primary source).
MinJobAge=300
ReturnToService=2
# Advertise the configured CPUs even where the machine has fewer (tests run several sleep jobs side by side).
SlurmdParameters=config_overrides
# The bridge's hooks: start and end records as they happen (README "Slurm bridge").
PrologSlurmctld=$DIR/hooks/prolog-slurmctld.sh
EpilogSlurmctld=$DIR/hooks/epilog-slurmctld.sh
JobCompType=jobcomp/script
JobCompLoc=$DIR/hooks/jobcomp.sh
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$(real_memory_mb) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
  # Let plain `sbatch`/`squeue` find it too, unless the machine has a Slurm configuration of its own.
  if [[ -d /etc/slurm && -w /etc/slurm ]] && { [[ ! -e /etc/slurm/slurm.conf ]] || [[ "$(readlink /etc/slurm/slurm.conf)" == "$CONF" ]]; }; then
    ln -sfn "$CONF" /etc/slurm/slurm.conf
  fi
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  munge_ok && return 0
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating /etc/munge/munge.key"
    (umask 077; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none)
    chown munge:munge /etc/munge/munge.key
  fi
  if id munge >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    runuser -u munge -- /usr/sbin/munged
  else
    /usr/sbin/munged
  fi
  touch "$DIR/munged.started-here"
  for _ in $(seq 50); do munge_ok && return 0; sleep 0.1; done
  log "munged did not come up"; exit 1
}

# Runs a daemon in the foreground mode (-D) as a detached background process with its output in a log file.
start_daemon() {
  local name="$1"; shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/$name.daemon.pid"
}

node_state() { sinfo -h -n "$HOST" -o '%T' 2>/dev/null | head -1; }

start() {
  mkdir -p "$DIR"
  if pid_alive "$DIR/slurmctld.daemon.pid" && [[ "$(node_state)" =~ ^(idle|mixed|allocated) ]]; then
    log "already running (SLURM_CONF=$CONF)"
    return 0
  fi
  install_packages
  write_conf
  start_munge
  pid_alive "$DIR/slurmctld.daemon.pid" || start_daemon slurmctld /usr/sbin/slurmctld -D -f "$CONF"
  pid_alive "$DIR/slurmd.daemon.pid" || start_daemon slurmd /usr/sbin/slurmd -D -f "$CONF"
  local state=""
  for _ in $(seq 300); do
    state="$(node_state)"
    if [[ "$state" =~ ^(idle|mixed|allocated) ]]; then
      log "up: node $HOST is $state (SLURM_CONF=$CONF, logs in $DIR/log, hook spool $SPOOL)"
      return 0
    fi
    if [[ "$state" =~ ^(down|drain) ]]; then
      scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.1
  done
  log "the node did not become idle within 30 s (state '${state:-none}'); last log lines:"
  tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  exit 1
}

stop_pid() {
  local file="$1"
  if pid_alive "$file"; then
    local pid; pid="$(cat "$file")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  stop_pid "$DIR/slurmd.daemon.pid"
  stop_pid "$DIR/slurmctld.daemon.pid"
  if [[ -f "$DIR/munged.started-here" ]]; then
    [[ -f /run/munge/munged.pid ]] && stop_pid /run/munge/munged.pid
    rm -f "$DIR/munged.started-here"
  fi
  log "stopped"
}

status() {
  if [[ -f "$CONF" ]] && sinfo >/dev/null 2>&1; then
    echo "local Slurm is up (SLURM_CONF=$CONF)"
    sinfo
    squeue -t all
  else
    echo "local Slurm is not running (SLURM_CONF=$CONF)"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF"; echo "export HORIZONS_SLURM_SPOOL=$SPOOL" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 64 ;;
esac
