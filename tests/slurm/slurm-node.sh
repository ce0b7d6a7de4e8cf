#!/usr/bin/env bash
# A private single-node Slurm for the tests, living entirely in one directory: munged with its own key, slurmctld and
# slurmd with a slurm.conf this script writes (nothing under /etc is read or changed). Needs root (SlurmUser=root).
#
#   slurm-node.sh start DIR   starts the three daemons and waits until the node is idle (60 s at most)
#   slurm-node.sh stop DIR    cancels every job, stops the daemons, then ends every process still carrying DIR's
#                             mark, verifies none is left and removes DIR; exit 1 if a process outlived SIGKILL
#
# Every daemon starts with PYMPI_SLURM_NODE=DIR in its environment and so does everything it starts (slurmstepd, job
# steps); callers put it in the environment of what they submit (sbatch --export=ALL passes it on), so stop finds every
# process of this Slurm by that mark and by nothing else.
set -uo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$(realpath -m "$2")
conf=$dir/slurm.conf
node=$(hostname -s)
log() { echo "slurm-node: $*" >&2; }

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

write_conf() {
  local ctld_port slurmd_port
  ctld_port=$(free_port); slurmd_port=$(free_port)
  # CPUs=8 on a 2-core machine (config_overrides: slurmd takes the configured counts) so that a 4-task job and a
  # 4-engine cluster fit side by side; proctrack/linuxproc and task/none: no cgroups needed.
  cat >"$conf" <<EOF
ClusterName=pympitest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

# daemon NAME COMMAND...: runs COMMAND in the foreground in the background, marked, output to log/NAME.out
daemon() {
  local name=$1; shift
  PYMPI_SLURM_NODE=$dir SLURM_CONF=$conf setsid "$@" >"$dir/log/$name.out" 2>&1 </dev/null &
  echo $! >"$dir/run/$name.launcher.pid"
}

start() {
  [[ -e $dir && -n "$(ls -A "$dir" 2>/dev/null)" ]] && { log "$dir is not empty"; exit 2; }
  mkdir -p "$dir"/{munge,run,state,spool/"$node",log}
  chmod 755 "$dir" "$dir/run"   # munged wants its socket directory open to all; the key stays private
  chmod 700 "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key" --bits=1024 >/dev/null || { log "mungekey failed"; exit 1; }
  chmod 600 "$dir/munge/munge.key"
  write_conf
  daemon munged munged --foreground --key-file="$dir/munge/munge.key" --socket="$dir/run/munge.socket" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
  for _ in $(seq 100); do [[ -S $dir/run/munge.socket ]] && break; sleep 0.1; done
  [[ -S $dir/run/munge.socket ]] || { log "munged did not start:"; cat "$dir/log/munged.out" >&2; exit 1; }
  daemon slurmctld slurmctld -D -f "$conf"
  daemon slurmd slurmd -D -f "$conf" -N "$node"
  local state=""
  for _ in $(seq 120); do
    state=$(SLURM_CONF=$conf sinfo -h -n "$node" -o %T 2>/dev/null)
    [[ $state == idle ]] && { log "node $node idle (Slurm $(slurmd -V | awk '{print $2}'), config $conf)"; return 0; }
    sleep 0.5
  done
  log "node $node not idle after 60 s (state '${state:-none}'); logs:"
  for f in "$dir"/log/*; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
  exit 1
}

# marked: pids of processes carrying this Slurm's mark (not this script or its callers)
marked() {
  local f pid
  # one grep over every environment: a process per candidate is far too slow under a sandboxing kernel (gVisor)
  for f in $(grep -lsF -z "PYMPI_SLURM_NODE=$dir" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$PPID" || $pid == "$BASHPID" ]] || echo "$pid"
  done
}

# signal_pidfile FILE SIG: signals the pid in FILE if it is alive
signal_pidfile() { local pid; pid=$(cat "$1" 2>/dev/null) && [[ -n $pid ]] && kill "-$2" "$pid" 2>/dev/null; }

wait_gone() { # wait_gone SECONDS: until no marked process is left
  for _ in $(seq $(($1 * 10))); do [[ -z "$(marked)" ]] && return 0; sleep 0.1; done
  return 1
}

stop() {
  [[ -f $conf ]] || { log "no Slurm in $dir"; rm -rf "$dir"; return 0; }
  if [[ -S $dir/run/munge.socket ]]; then
    local jobs
    jobs=$(SLURM_CONF=$conf timeout 10 squeue -h -o %i 2>/dev/null)
    if [[ -n $jobs ]]; then
      log "cancelling jobs left running: $(echo $jobs)"
      SLURM_CONF=$conf timeout 10 scancel $jobs 2>/dev/null
      for _ in $(seq 150); do [[ -z "$(SLURM_CONF=$conf timeout 5 squeue -h -o %i 2>/dev/null)" ]] && break; sleep 0.1; done
    fi
  fi
  signal_pidfile "$dir/run/slurmd.pid" TERM
  signal_pidfile "$dir/run/slurmctld.pid" TERM
  for _ in $(seq 100); do
    { signal_pidfile "$dir/run/slurmd.pid" 0 || signal_pidfile "$dir/run/slurmctld.pid" 0; } || break
    sleep 0.1
  done
  signal_pidfile "$dir/run/munged.pid" TERM
  local left
  if ! wait_gone 5; then
    left=$(marked)
    log "ending processes left behind: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" 2>/dev/null | head -n 20 | tr '\n' ';')"
    kill -TERM $left 2>/dev/null
    wait_gone 3 || { kill -KILL $(marked) 2>/dev/null; wait_gone 3; }
  fi
  left=$(marked)
  if [[ -n $left ]]; then
    log "processes still running after SIGKILL: $(echo $left)"
    return 1
  fi
  [[ ${PYMPI_SLURM_KEEP:-0} == 1 ]] && { log "kept $dir (PYMPI_SLURM_KEEP=1)"; return 0; }
  rm -rf "$dir"
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
