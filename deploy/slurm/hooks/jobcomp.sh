#!/bin/sh
# jobcomp/script hook for the Cosmic Horizons Slurm bridge: one record per finished job with its final state, times
# and exit code, so the bridge can publish the end of a job even after squeue forgot it (README "Slurm bridge").
# slurm.conf:  JobCompType=jobcomp/script
#              JobCompLoc=/path/to/deploy/slurm/hooks/jobcomp.sh
. "$(dirname "$0")/bridge-hook-lib.sh" 2>/dev/null || exit 0
emit jobcomp \
  cluster "${CLUSTER:-}" job_id "${JOBID:-}" array_job_id "${ARRAYJOBID:-}" array_task_id "${ARRAYTASKID:-}" \
  user "${USERNAME:-}" name "${JOBNAME:-}" partition "${PARTITION:-}" state "${JOBSTATE:-}" \
  exit_code "${EXITCODE:-}" submit "${SUBMIT:-}" start "${START:-}" end "${END:-}" \
  node_count "${NODECNT:-}" nodes "${NODES:-}" cpus "${PROCS:-}" limit "${LIMIT:-}" \
  work_dir "${WORK_DIR:-}" stdout "${STDOUT:-}" reason "${STATEREASONPREV:-}"
exit 0
