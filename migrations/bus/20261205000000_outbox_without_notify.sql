-- The outbox's writers no longer NOTIFY in their transactions: PostgreSQL
-- serializes the commits of all notifying transactions of the cluster
-- (each holds a cluster-wide lock through its WAL flush), so every
-- event-writing commit of every service queued behind the others. The
-- relay is woken in-process by its service's writes and polls for the
-- rest (libs/bus/src/outbox.rs).
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
