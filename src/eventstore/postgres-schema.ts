/**
 * The PostgreSQL schema of the event store, as versioned migrations. Each entry upgrades the
 * schema by one version; `schema_version` records which ran. Names are interpolated only after
 * `postgres.ts` has checked the schema name against a strict identifier pattern.
 */

/**
 * Events per append are numbered inside their transaction: position = xid × this + index (so
 * position 1234560003 is the third event of transaction 123456). Small enough that positions stay
 * below 2^53 for 9·10^11 transactions, for code that turns them into numbers.
 */
export const POSITIONS_PER_TRANSACTION = 10_000n;

/** The SQLSTATE the append function raises when the stream is not in the expected state; the message is its head. */
export const CONFLICT_SQLSTATE = 'TL409';

/** First half of the advisory lock key that marks an appending transaction ("TL"). */
export const APPENDER_LOCK_CLASS = 0x544c;

export interface SchemaNames {
  schema: string;
  /** Second half of the advisory lock key: a hash of the schema name, so schemas do not wait on each other. */
  lockKey: number;
}

export const q = (name: string): string => `"${name}"`;

export function migrations({ schema, lockKey }: SchemaNames): string[] {
  const s = q(schema);
  return [
    `
    CREATE TABLE ${s}.events (
      position    bigint      PRIMARY KEY,
      stream_id   text        NOT NULL,
      revision    bigint      NOT NULL,
      type        text        NOT NULL,
      data        json        NOT NULL,
      metadata    json        NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_stream_revision UNIQUE (stream_id, revision)
    );
    -- One call per append: the expected-state check and the insert in one round trip.
    -- The shared advisory lock is taken before the transaction gets its id, so a reader can tell
    -- in-flight appends of this schema from unrelated transactions (see readAll in postgres.ts).
    CREATE FUNCTION ${s}.append(p_stream text, p_expected text, p_types text[], p_data text[], p_metadata text[])
      RETURNS TABLE (next_revision bigint, last_position bigint)
      LANGUAGE plpgsql AS $fn$
    DECLARE
      v_current bigint;
      v_base    bigint;
      v_count   int := cardinality(p_types);
      v_ok      boolean;
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(${APPENDER_LOCK_CLASS}, ${lockKey});
      SELECT max(e.revision) INTO v_current FROM ${s}.events e WHERE e.stream_id = p_stream;
      v_ok := CASE p_expected
        WHEN 'any' THEN true
        WHEN 'no_stream' THEN v_current IS NULL
        WHEN 'stream_exists' THEN v_current IS NOT NULL
        ELSE v_current IS NOT NULL AND v_current = p_expected::bigint END;
      IF NOT v_ok THEN
        RAISE EXCEPTION USING ERRCODE = '${CONFLICT_SQLSTATE}', MESSAGE = coalesce(v_current::text, 'no_stream');
      END IF;
      v_base := pg_current_xact_id()::text::bigint * ${POSITIONS_PER_TRANSACTION};
      INSERT INTO ${s}.events (position, stream_id, revision, type, data, metadata)
        SELECT v_base + i, p_stream, coalesce(v_current, -1) + i, p_types[i], p_data[i]::json, p_metadata[i]::json
        FROM generate_series(1, v_count) AS i;
      next_revision := coalesce(v_current, -1) + v_count;
      last_position := v_base + v_count;
      RETURN NEXT;
    END
    $fn$;
    `,
    // A cache of folded stream state (see postgres-snapshots.ts); revision -1 is a tombstone.
    `
    CREATE TABLE ${s}.snapshots (
      stream_id text   PRIMARY KEY,
      revision  bigint NOT NULL,
      floor     bigint NOT NULL DEFAULT -1,
      anchor    text,
      schema    text,
      body      text,
      checksum  text
    );
    `,
  ];
}

/** The schema version this code writes; a newer one in the database is refused. */
export const schemaVersion = (names: SchemaNames): number => migrations(names).length;

/**
 * Rows of `events` readable now without ever skipping one later: below the oldest transaction
 * that was in flight when this statement's snapshot was taken and that may be an appender of
 * this schema. pg_locks is read once (materialized) so both of its uses see the same instant.
 * $1: after (exclusive), $2: at most this many rows (the first row at or above the horizon is
 * also returned, so the caller can tell "held back" from "nothing more"). `settled`: the
 * transaction that holds the horizon back ended while this statement ran, so asking again
 * moves past it; otherwise it is an append of this schema still in flight.
 */
export function readAllSql({ schema, lockKey }: SchemaNames): string {
  return `
    WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
    locks AS MATERIALIZED (
      SELECT locktype, mode, granted, pid, transactionid, classid, objid, objsubid, database FROM pg_locks
    ),
    -- Running transactions that are not appenders of this schema (prepared ones have no pid: never ours).
    foreign_running AS (
      SELECT t.transactionid FROM locks t
      WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
        AND NOT EXISTS (
          SELECT 1 FROM locks a
          WHERE a.pid = t.pid AND a.locktype = 'advisory' AND a.granted AND a.objsubid = 2
            AND a.classid = ${APPENDER_LOCK_CLASS} AND a.objid = ${lockKey}
            AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
    ),
    candidates AS (
      SELECT x::text::bigint AS xid,
        EXISTS (SELECT 1 FROM locks t WHERE t.locktype = 'transactionid' AND t.transactionid = xid(x)) AS running
      FROM snap, pg_snapshot_xip(snap.s) AS x
      WHERE NOT EXISTS (SELECT 1 FROM foreign_running f WHERE f.transactionid = xid(x))
      ORDER BY 1 LIMIT 1
    ),
    horizon AS MATERIALIZED (
      SELECT coalesce((SELECT xid FROM candidates), pg_snapshot_xmax(snap.s)::text::bigint) * ${POSITIONS_PER_TRANSACTION} AS below,
        coalesce((SELECT NOT running FROM candidates), false) AS settled
      FROM snap
    )
    SELECT e.position, e.stream_id, e.revision, e.type, e.data, e.metadata, h.below, h.settled
    FROM horizon h CROSS JOIN LATERAL (
      SELECT * FROM ${q(schema)}.events WHERE position > $1 ORDER BY position LIMIT $2
    ) e`;
}
