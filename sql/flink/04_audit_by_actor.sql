-- Who did what under one correlation id: audit events by actor (view analytics_audit_by_actor).
--   bin/horizons sql -f sql/flink/04_audit_by_actor.sql --var correlation_id=<id>
SELECT actor, events, event_types, first_at, last_at
FROM analytics_audit_by_actor
WHERE correlation_id = '${correlation_id}'
ORDER BY events DESC, actor;
