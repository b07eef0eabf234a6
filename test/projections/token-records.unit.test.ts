import { describe, expect, it } from 'vitest';
import { foldBatch } from '../../projections/batch.js';
import { EXPIRED_RETENTION_MS, projectEvent, storageExpiry, type RecordChanges, type UserDoc } from '../../projections/token-records.js';
import type { LedgerEvent } from '../../src/domain/index.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';

const T = '2030-01-01T00:00:00.000Z';
const LATER = '2030-01-01T01:00:00.000Z';
const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const D3 = 'c'.repeat(64);

let nextPosition = 1n;
function recorded(event: LedgerEvent, streamId = 'user-alice'): RecordedEvent {
  const position = nextPosition++;
  return { streamId, revision: position - 1n, position, type: event.type, data: event.data, metadata: {} };
}

const registered = (): LedgerEvent => ({
  type: 'UserRegistered',
  data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: null, at: T },
});
const issued = (name: string, digest: string, extra: Partial<{ scopes: string[]; expiresAt: string | null }> = {}): LedgerEvent => ({
  type: 'TokenIssued',
  data: { tokenId: `t-${name}`, name, kind: 'named', format: 'tl', digest, keyPrefix: 'tl_xxxxx', scopes: [], description: null, expiresAt: null, at: T, ...extra },
});
const rotated = (name: string, digest: string, previousDigest: string, graceUntil: string | null, droppedDigests: string[] = []): LedgerEvent => ({
  type: 'TokenRotated',
  data: { tokenId: `t-${name}`, name, digest, keyPrefix: 'tl_yyyyy', previousDigest, graceUntil, droppedDigests, at: T },
});

/** Given events, when folded from nothing: the document and every record change. */
function given(...events: RecordedEvent[]): { doc: UserDoc | null; changes: RecordChanges } {
  const changes: RecordChanges = new Map();
  let doc: UserDoc | null = null;
  for (const event of events) doc = projectEvent(doc, event, changes);
  return { doc, changes };
}

describe('token records projection', () => {
  describe('when a token is issued', () => {
    it('writes one record with the user, the token and the position of the event', () => {
      const register = recorded(registered());
      const issue = recorded(issued('default', D1, { scopes: ['tokens:read'], expiresAt: LATER }));
      const { changes } = given(register, issue);
      expect(changes.get(D1)).toEqual({
        userId: 'u-1',
        username: 'alice',
        active: true,
        isStaff: false,
        isSuperuser: false,
        tokenId: 't-default',
        name: 'default',
        scopes: ['tokens:read'],
        expiresAt: Date.parse(LATER),
        graceUntil: null,
        position: Number(issue.position),
      });
    });

    it('ignores token events of a user that does not exist', () => {
      expect(given(recorded(issued('default', D1))).changes.size).toBe(0);
    });
  });

  describe('when rotated', () => {
    it('with grace: the new secret is live and the old one keeps a record until the grace ends', () => {
      const { changes, doc } = given(recorded(registered()), recorded(issued('ci', D1)), recorded(rotated('ci', D2, D1, LATER)));
      expect(changes.get(D2)).toMatchObject({ name: 'ci', graceUntil: null });
      expect(changes.get(D1)).toMatchObject({ name: 'ci', graceUntil: Date.parse(LATER) });
      expect(doc!.tokens.ci!.previous).toEqual({ digest: D1, graceUntil: Date.parse(LATER) });
    });

    it('without grace: the old secret is deleted', () => {
      const { changes } = given(recorded(registered()), recorded(issued('ci', D1)), recorded(rotated('ci', D2, D1, null)));
      expect(changes.get(D1)).toBeNull();
      expect(changes.get(D2)).toMatchObject({ graceUntil: null });
    });

    it('again, in grace: the secret of the first rotation is dropped', () => {
      const { changes } = given(
        recorded(registered()),
        recorded(issued('ci', D1)),
        recorded(rotated('ci', D2, D1, LATER)),
        recorded(rotated('ci', D3, D2, LATER, [D1])),
      );
      expect(changes.get(D1)).toBeNull();
      expect(changes.get(D2)).toMatchObject({ graceUntil: Date.parse(LATER) });
      expect(changes.get(D3)).toMatchObject({ graceUntil: null });
    });
  });

  describe('when revoked', () => {
    it('deletes every secret of the token, the one in grace too', () => {
      const { changes, doc } = given(
        recorded(registered()),
        recorded(issued('ci', D1)),
        recorded(rotated('ci', D2, D1, LATER)),
        recorded({ type: 'TokenRevoked', data: { tokenId: 't-ci', name: 'ci', digests: [D2, D1], reason: null, at: T } }),
      );
      expect(changes.get(D1)).toBeNull();
      expect(changes.get(D2)).toBeNull();
      expect(doc!.tokens).toEqual({});
    });
  });

  describe('when the user is deactivated', () => {
    it('rewrites every record of the user with active = false at the new position', () => {
      const history = [recorded(registered()), recorded(issued('default', D1)), recorded(issued('ci', D2)), recorded(rotated('ci', D3, D2, LATER))];
      const deactivate = recorded({ type: 'UserDeactivated', data: { at: T } });
      const { changes } = given(...history, deactivate);
      for (const digest of [D1, D2, D3]) {
        expect(changes.get(digest)).toMatchObject({ active: false, position: Number(deactivate.position) });
      }
    });

    it('and flags change: every record carries the new flags', () => {
      const { changes } = given(
        recorded(registered()),
        recorded(issued('default', D1)),
        recorded({ type: 'UserFlagsChanged', data: { isStaff: true, isSuperuser: true, at: T } }),
      );
      expect(changes.get(D1)).toMatchObject({ isStaff: true, isSuperuser: true, active: true });
    });
  });

  describe('when an event is applied again', () => {
    it('changes nothing, at or before the position of the document', () => {
      const events = [recorded(registered()), recorded(issued('default', D1)), recorded(rotated('default', D2, D1, null))];
      const { doc } = given(...events);
      for (const event of events) {
        const changes: RecordChanges = new Map();
        expect(projectEvent(doc, event, changes)).toBe(doc);
        expect(changes.size).toBe(0);
      }
    });

    it('a batch folded twice leaves out every user it has already moved', () => {
      const events = [recorded(registered()), recorded(issued('default', D1))];
      const first = foldBatch(new Map(), events);
      const doc = first.get('alice')!.doc;
      expect(first.get('alice')!.base).toBe(0);
      expect(foldBatch(new Map([['alice', doc]]), events).size).toBe(0);
    });
  });

  it('ignores streams that are not user streams', () => {
    expect(foldBatch(new Map(), [recorded(registered(), 'other-stream')]).size).toBe(0);
  });

  describe('how long a record is kept in storage', () => {
    const record = { userId: 'u', username: 'a', active: true, isStaff: false, isSuperuser: false, tokenId: 't', name: 'n', scopes: [] };
    it('forever for a token without expiry', () => {
      expect(storageExpiry({ ...record, expiresAt: null, graceUntil: null })).toBeNull();
    });
    it('until the grace ends for a superseded secret', () => {
      expect(storageExpiry({ ...record, expiresAt: 5_000_000, graceUntil: 1_000 })).toBe(1_000);
    });
    it('a week past expiry, so it answers "Token has expired." meanwhile', () => {
      expect(storageExpiry({ ...record, expiresAt: 1_000, graceUntil: null })).toBe(1_000 + EXPIRED_RETENTION_MS);
      expect(EXPIRED_RETENTION_MS).toBe(7 * 24 * 3_600_000);
    });
  });
});

describe('the user document does not grow with expired login tokens', () => {
  const HOUR = 3_600_000;
  const T0 = Date.parse(T);
  const digestOf = (i: number) => `${i}`.padStart(64, '0');
  const login = (i: number, atMs: number): LedgerEvent => ({
    type: 'TokenIssued',
    data: {
      tokenId: `t-${i}`,
      name: `login-${i}`,
      kind: 'login',
      format: 'tl',
      digest: digestOf(i),
      keyPrefix: 'tl_xxxxx',
      scopes: [],
      description: null,
      expiresAt: new Date(atMs + 10 * HOUR).toISOString(),
      at: new Date(atMs).toISOString(),
    },
  });

  it('10,000 logins over 100 days: only the last 10 h + retention week stay, the others\' records are deleted', () => {
    const every = HOUR / 4;
    const events = [recorded(registered()), ...Array.from({ length: 10_000 }, (_, i) => recorded(login(i, T0 + i * every)))];
    const bound = Math.ceil((10 * HOUR + EXPIRED_RETENTION_MS) / every);
    // In one batch and in batches of 100 (as the projector follows the log): the same document.
    const once = foldBatch(new Map(), events).get('alice')!;
    let docs = new Map<string, UserDoc | null>();
    const records: RecordChanges = new Map();
    for (let i = 0; i < events.length; i += 100) {
      const change = foldBatch(docs, events.slice(i, i + 100)).get('alice')!;
      docs = new Map([['alice', change.doc]]);
      for (const [digest, record] of change.records) records.set(digest, record);
    }
    for (const doc of [once.doc, docs.get('alice')!]) {
      expect(Object.keys(doc.tokens).length).toBeLessThanOrEqual(bound);
      expect(Object.keys(doc.tokens).length).toBeGreaterThan(bound - 2);
    }
    expect(docs.get('alice')).toEqual(once.doc);
    expect(records.get(digestOf(0))).toBeNull();
    expect(records.get(digestOf(9_999))).not.toBeNull();
  });

  it('an expired token stays through its retention week (it answers "Token has expired."), then leaves at the next event', () => {
    const register = recorded(registered());
    const first = recorded(login(1, T0));
    const within = recorded({ type: 'UserDeactivated', data: { at: new Date(T0 + 10 * HOUR + EXPIRED_RETENTION_MS - 1).toISOString() } });
    const after = recorded({ type: 'UserActivated', data: { at: new Date(T0 + 10 * HOUR + EXPIRED_RETENTION_MS).toISOString() } });
    const { doc, changes } = given(register, first, within);
    expect(Object.keys(doc!.tokens)).toEqual(['login-1']);
    expect(changes.get(digestOf(1))).toMatchObject({ active: false });
    const later = given(register, first, within, after);
    expect(later.doc!.tokens).toEqual({});
    expect(later.changes.get(digestOf(1))).toBeNull();
  });
});
