#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for lossy's Slurm integration test
# (tests/integration/slurm.rs) and for trying `lossy slurm --submit` locally.
#
#   scripts/slurm_local.sh install   # Debian packages: slurmctld slurmd slurm-client munge (root)
#   scripts/slurm_local.sh start     # write /etc/slurm/slurm.conf, start munged, slurmctld, slurmd
#   scripts/slurm_local.sh status    # sinfo
#   scripts/slurm_local.sh stop      # scontrol shutdown; stop the munged this script started
#
# Runs as root (SlurmUser=root), with ProctrackType=proctrack/linuxproc and
# TaskPlugin=task/none, so it needs no cgroups or systemd: it works in a
# container. The node gets every CPU and 80% of the memory this machine has
# (override with SLURM_LOCAL_CPUS / SLURM_LOCAL_MEM_MB). State, logs and pid
# files go to $SLURM_LOCAL_DIR (default /var/tmp/lossy-slurm). An existing
# /etc/slurm/slurm.conf that this script did not write is never replaced,
# and `stop` ends only the daemons whose pid files this script made.
set -euo pipefail

STATE="${SLURM_LOCAL_DIR:-/var/tmp/lossy-slurm}"
CONF=/etc/slurm/slurm.conf
MARK="# written by lossy scripts/slurm_local.sh"

die() { echo "slurm_local.sh: $*" >&2; exit 2; }

install_packages() {
    [ "$(id -u)" = 0 ] || die "install needs root (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; not replacing it"
    fi
    local host cpus mem
    host=$(hostname -s)
    cpus="${SLURM_LOCAL_CPUS:-$(nproc)}"
    mem="${SLURM_LOCAL_MEM_MB:-$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)}"
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$STATE/log"
    cat > "$CONF.tmp" <<CONF
$MARK
ClusterName=lossy-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    mv "$CONF.tmp" "$CONF"
}

start() {
    [ "$(id -u)" = 0 ] || die "start needs root (the daemons run as root here)"
    command -v slurmctld >/dev/null || die "slurmctld is not installed: run '$0 install' first"
    write_conf
    mkdir -p /run/munge
    if ! munge -n >/dev/null 2>&1; then   # no munged answering
        /usr/sbin/munged --force 2>>"$STATE/log/munged.log"
        cp /run/munge/munged.pid "$STATE/munged.pid" 2>/dev/null || true
    fi
    if [ -f "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
        echo "slurmctld already running"
    else
        /usr/sbin/slurmctld -c   # -c: a clean start, no jobs from an earlier run
    fi
    if ! { [ -f "$STATE/slurmd.pid" ] && kill -0 "$(cat "$STATE/slurmd.pid")" 2>/dev/null; }; then
        /usr/sbin/slurmd
    fi
    for _ in $(seq 60); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            sinfo
            return 0
        fi
        sleep 1
    done
    sinfo || true
    die "the node did not come up in 60 s; logs in $STATE/log"
}

stop() {
    scontrol shutdown 2>/dev/null || true
    for d in slurmctld slurmd; do
        local f="$STATE/$d.pid"
        for _ in $(seq 30); do
            [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || break
            sleep 0.5
        done
    done
    if [ -f "$STATE/munged.pid" ]; then
        kill "$(cat "$STATE/munged.pid")" 2>/dev/null || true
        rm -f "$STATE/munged.pid"
    fi
}

case "${1:-}" in
    install) install_packages ;;
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) die "usage: $0 install|start|status|stop" ;;
esac
