-- Is the audit ledger intact? The summary, then the broken chains, if any (views analytics_chain_verification and
-- analytics_chain_status: hashes, links and sequence numbers; MACs need the key: bin/horizons audit verify).
--   bin/horizons sql -f sql/flink/06_chain_verification.sql
SELECT chains, intact_chains, broken_chains, entries, unanchored_entries, latest_anchor_seq, problems
FROM analytics_chain_verification;

SELECT chain_id, entries, last_seq, first_broken_seq, problem
FROM analytics_chain_status
WHERE problem IS NOT NULL
ORDER BY chain_id;
