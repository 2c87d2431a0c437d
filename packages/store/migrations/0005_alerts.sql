-- Reprise 0005: alerts. The facts alert rules look at are captured where the log is
-- already written (row triggers on events and breakers, so the hot path sends nothing more),
-- evaluated once per rule by whichever worker with the rule holds its lock, and delivered
-- through an outbox.
-- :schema is replaced by the quoted schema name. Never edit a migration once released.

-- The alert rules of running workers, by the fact kind each listens to (StepAttemptFailed,
-- StepFailed, RunFailed, BreakerOpened), and when a worker last said it has them. A fact is
-- captured once per rule that listens to it, so each rule evaluates each fact once, however
-- many workers have the rule and whatever rules the others have. Rules not seen for a day
-- are forgotten; without any, nothing is captured at all (a day, not a minute, so that a
-- deploy that restarts every worker loses nothing).
CREATE TABLE :schema.alert_rules (
  id       text        NOT NULL,
  kind     text        NOT NULL,
  seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, kind)
);

-- Facts waiting for evaluation by a rule. Append-only until a worker holding the rule's
-- lock deletes the rows it evaluated, in the transaction that writes what they caused.
CREATE TABLE :schema.alert_inbox (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule        text        NOT NULL,
  -- StepAttemptFailed, StepFailed or RunFailed (an event of run_id at seq), or BreakerOpened.
  kind        text        NOT NULL,
  run_id      text,
  seq         integer,
  -- BreakerOpened: the breaker's name, and { failures } when it opened.
  subject     text,
  detail      jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_inbox_rule ON :schema.alert_inbox (rule, id);

-- Called only for the kinds the WHEN clause below lets through: a step's completion (the
-- hot path) never reaches it. Events a fork copies from another run are not new facts.
CREATE FUNCTION :schema.alert_capture_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('reprise.copying', true) = 'on' THEN
    RETURN NULL;
  END IF;
  INSERT INTO :schema.alert_inbox (rule, kind, run_id, seq)
  SELECT r.id, NEW.kind, NEW.run_id, NEW.seq FROM :schema.alert_rules r
  WHERE r.kind = NEW.kind AND r.seen_at > now() - interval '1 day';
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_alert_capture AFTER INSERT ON :schema.events
  FOR EACH ROW WHEN (NEW.kind IN ('StepAttemptFailed', 'StepFailed', 'RunFailed'))
  EXECUTE FUNCTION :schema.alert_capture_event();

-- The run whose failure opened the breaker last (written by the report that opens it).
ALTER TABLE :schema.breakers ADD COLUMN opened_by text;

CREATE FUNCTION :schema.alert_capture_breaker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO :schema.alert_inbox (rule, kind, run_id, subject, detail)
  SELECT r.id, 'BreakerOpened', NEW.opened_by, NEW.name, jsonb_build_object('failures', NEW.failures)
  FROM :schema.alert_rules r
  WHERE r.kind = 'BreakerOpened' AND r.seen_at > now() - interval '1 day';
  RETURN NULL;
END;
$$;
-- Opened: a first failure at threshold 1 inserts the row open; otherwise closed → open, or a
-- failed half-open trial. A report while it is open already changes nothing here.
CREATE TRIGGER breakers_alert_opened AFTER INSERT ON :schema.breakers
  FOR EACH ROW WHEN (NEW.state = 'open')
  EXECUTE FUNCTION :schema.alert_capture_breaker();
CREATE TRIGGER breakers_alert_reopened AFTER UPDATE ON :schema.breakers
  FOR EACH ROW WHEN (NEW.state = 'open' AND OLD.state <> 'open')
  EXECUTE FUNCTION :schema.alert_capture_breaker();

-- One row per alert: what the rule saw first, and how often since (count) within the window.
CREATE TABLE :schema.alerts (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule             text        NOT NULL,
  key              text        NOT NULL,
  severity         text        NOT NULL CHECK (severity IN ('info', 'warning', 'high', 'critical')),
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  workflow         text        NOT NULL,
  step             text,
  run_id           text        NOT NULL,
  error_name       text        NOT NULL,
  message          text        NOT NULL,
  attempt          integer     NOT NULL,
  last_log_lines   jsonb       NOT NULL DEFAULT '[]',
  runbook_url      text,
  run_url          text,
  first_seen_at    timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  count            integer     NOT NULL DEFAULT 1,
  -- Unacknowledged at escalate_at: notify escalate_to (once; escalated_at says it happened).
  escalate_at      timestamptz,
  escalate_to      text[]      NOT NULL DEFAULT '{}',
  escalated_at     timestamptz,
  acknowledged_by  text,
  acknowledged_at  timestamptz,
  -- autoResolve: resolved by a run of the workflow created at or after resolve_after that
  -- completed after last_seen_at (the next run, or the failed run itself retried).
  auto_resolve     boolean     NOT NULL DEFAULT false,
  resolve_after    timestamptz,
  -- Channels told when the alert is resolved (empty: nobody).
  resolve_notify   text[]      NOT NULL DEFAULT '{}',
  resolved_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
-- Dedup: the newest unresolved alert of a rule and key.
CREATE INDEX alerts_dedup ON :schema.alerts (rule, key, first_seen_at DESC) WHERE status <> 'resolved';
CREATE INDEX alerts_escalation ON :schema.alerts (escalate_at) WHERE status = 'open' AND escalated_at IS NULL AND escalate_at IS NOT NULL;
CREATE INDEX alerts_auto_resolve ON :schema.alerts (workflow) WHERE auto_resolve AND status <> 'resolved';
CREATE INDEX alerts_status ON :schema.alerts (status, id DESC);

-- The outbox: one row per notification per channel, written in the transaction that decided
-- it, deleted never (it is the delivery history). Claimed with a lease, so a worker that dies
-- mid-delivery leaves it to another, which sends it again with the same idempotency key.
CREATE TABLE :schema.alert_deliveries (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id         bigint      NOT NULL REFERENCES :schema.alerts (id) ON DELETE CASCADE,
  channel          text        NOT NULL,
  notification     text        NOT NULL CHECK (notification IN ('opened', 'escalated', 'resolved')),
  idempotency_key  text        NOT NULL UNIQUE DEFAULT gen_random_uuid()::text,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  locked_by        text,
  locked_until     timestamptz,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_due ON :schema.alert_deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert ON :schema.alert_deliveries (alert_id);

-- run.late: the late slots each rule has counted, so that a slot that stays late is one
-- occurrence however many checks see it. Rows older than the lateness window are pruned.
CREATE TABLE :schema.alert_late_slots (
  rule         text        NOT NULL,
  schedule_id  text        NOT NULL,
  slot_at      timestamptz NOT NULL,
  seen_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule, schedule_id, slot_at)
);
