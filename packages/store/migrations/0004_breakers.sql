-- Reprise 0004: circuit breakers, shared by every worker.
CREATE TABLE :schema.breakers (
  name          text        PRIMARY KEY,
  -- closed: calls go through; open: calls fail fast until opened_at + reset; half-open: one
  -- trial call is out (trial_at), the others fail fast until it reports.
  state         text        NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half-open')),
  failures      integer     NOT NULL DEFAULT 0,
  opened_at     timestamptz,
  trial_at      timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
