-- Is the audit ledger intact? Per chain (analytics_chain_status) and in one row (analytics_chain_verification),
-- from audit_verify() of the ledger migration: every entry's hash recomputes, links to its predecessor, and its seq
-- follows without gaps. MACs need the key and are checked by bin/horizons audit verify (or audit_verify(key)).
-- unanchored_entries: entries after the chain's head in the latest signed anchor (not yet covered by a signature).
--   SELECT * FROM analytics_chain_verification;
--   SELECT * FROM analytics_chain_status WHERE problem IS NOT NULL;
CREATE OR REPLACE VIEW analytics_chain_status AS
WITH latest_heads AS (
    SELECT h.chain_id, h.head_seq
    FROM audit_anchor_heads h
    WHERE h.anchor_seq = (SELECT max(anchor_seq) FROM audit_anchors)
)
SELECT v.chain_id,
       v.entries,
       v.last_seq,
       v.first_broken_seq,
       v.problem,
       h.head_seq AS anchored_seq,
       greatest(0, v.last_seq - coalesce(h.head_seq, v.last_seq - v.entries)) AS unanchored_entries
FROM audit_verify() v
LEFT JOIN latest_heads h USING (chain_id);

CREATE OR REPLACE VIEW analytics_chain_verification AS
SELECT count(*) AS chains,
       count(*) FILTER (WHERE problem IS NULL) AS intact_chains,
       count(*) FILTER (WHERE problem IS NOT NULL) AS broken_chains,
       coalesce(sum(entries), 0)::bigint AS entries,
       coalesce(sum(unanchored_entries), 0)::bigint AS unanchored_entries,
       (SELECT max(anchor_seq) FROM audit_anchors) AS latest_anchor_seq,
       (SELECT max(created_at) AT TIME ZONE 'UTC' FROM audit_anchors) AS latest_anchor_at,
       string_agg(chain_id || ' seq ' || first_broken_seq || ': ' || problem, '; ' ORDER BY chain_id)
           FILTER (WHERE problem IS NOT NULL) AS problems
FROM analytics_chain_status;
