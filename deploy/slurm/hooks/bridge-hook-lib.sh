# Shared by the Cosmic Horizons Slurm bridge hooks: appends one JSON object per line to the bridge's spool file.
# Sourced by prolog-slurmctld.sh, epilog-slurmctld.sh and jobcomp.sh; see README, section "Slurm bridge".
#
# The spool file is, in this order: $HORIZONS_SLURM_SPOOL (slurmctld does not pass its environment to these hooks, so
# this is for running a hook by hand), the path in the file spool.path next to the hooks (deploy/slurm/local-slurm.sh
# writes it), or /var/spool/horizons-slurm-bridge/events.jsonl.
#
# A hook must never hold up or fail a job: every error is swallowed and the hook always exits 0.

horizons_spool() {
  if [ -n "${HORIZONS_SLURM_SPOOL:-}" ]; then
    echo "$HORIZONS_SLURM_SPOOL"
  elif [ -r "$(dirname "$0")/spool.path" ]; then
    head -n 1 "$(dirname "$0")/spool.path"
  else
    echo /var/spool/horizons-slurm-bridge/events.jsonl
  fi
}

# emit HOOK KEY VALUE [KEY VALUE ...]: one JSON line {"hook":HOOK,"time":<now>,KEY:VALUE,...}, values as strings.
emit() {
  spool="$(horizons_spool)"
  mkdir -p "$(dirname "$spool")" 2>/dev/null
  line="$(awk -v hook="$1" -v now="$(date +%s)" 'BEGIN {
      out = "{\"hook\":\"" hook "\",\"time\":\"" now "\""
      for (i = 2; i + 1 < ARGC; i += 2) {
        v = ARGV[i + 1]
        gsub(/\\/, "\\\\\\\\", v); gsub(/"/, "\\\"", v); gsub(/[[:cntrl:]]/, " ", v)
        out = out ",\"" ARGV[i] "\":\"" v "\""
      }
      print out "}"
      exit
    }' "$@")" || return 0
  # One short write per record under an exclusive lock, so concurrent hooks never interleave their lines.
  if command -v flock >/dev/null 2>&1; then
    ( flock -w 5 9 && printf '%s\n' "$line" >>"$spool" ) 9>>"$spool.lock" 2>/dev/null
  else
    printf '%s\n' "$line" >>"$spool" 2>/dev/null
  fi
  return 0
}
