#!/bin/sh
# PrologSlurmctld hook for the Cosmic Horizons Slurm bridge: records that a job is starting (README "Slurm bridge").
# slurm.conf:  PrologSlurmctld=/path/to/deploy/slurm/hooks/prolog-slurmctld.sh
# A non-zero exit would requeue the job, so this hook always exits 0.
. "$(dirname "$0")/bridge-hook-lib.sh" 2>/dev/null || exit 0
emit prolog \
  cluster "${SLURM_CLUSTER_NAME:-}" job_id "${SLURM_JOB_ID:-}" \
  array_job_id "${SLURM_ARRAY_JOB_ID:-}" array_task_id "${SLURM_ARRAY_TASK_ID:-}" \
  user "${SLURM_JOB_USER:-}" name "${SLURM_JOB_NAME:-}" partition "${SLURM_JOB_PARTITION:-}" \
  comment "${SLURM_JOB_COMMENT:-}" node_count "${SLURM_JOB_NUM_NODES:-}" nodes "${SLURM_JOB_NODELIST:-}" \
  restarts "${SLURM_JOB_RESTART_COUNT:-}" work_dir "${SLURM_JOB_WORK_DIR:-}"
exit 0
