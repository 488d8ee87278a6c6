#!/bin/sh
# EpilogSlurmctld hook for the Cosmic Horizons Slurm bridge: records that a job ended, with its exit code (Slurm does
# not tell this hook the final state; jobcomp.sh does). README "Slurm bridge".
# slurm.conf:  EpilogSlurmctld=/path/to/deploy/slurm/hooks/epilog-slurmctld.sh
. "$(dirname "$0")/bridge-hook-lib.sh" 2>/dev/null || exit 0
emit epilog \
  cluster "${SLURM_CLUSTER_NAME:-}" job_id "${SLURM_JOB_ID:-}" \
  array_job_id "${SLURM_ARRAY_JOB_ID:-}" array_task_id "${SLURM_ARRAY_TASK_ID:-}" \
  user "${SLURM_JOB_USER:-}" name "${SLURM_JOB_NAME:-}" partition "${SLURM_JOB_PARTITION:-}" \
  comment "${SLURM_JOB_COMMENT:-}" node_count "${SLURM_JOB_NUM_NODES:-}" nodes "${SLURM_JOB_NODELIST:-}" \
  exit_code "${SLURM_JOB_EXIT_CODE2:-}" restarts "${SLURM_JOB_RESTART_COUNT:-}" work_dir "${SLURM_JOB_WORK_DIR:-}"
exit 0
