import { afterEach, expect, it } from 'vitest';
import { isSealed, openLog, type SealedLog } from '../../../src/eventstore/vault/index.js';

let log: SealedLog | undefined;
afterEach(async () => {
  await log?.close();
});

const CONTEXT = { actor: 'operator', channel: 'cli', source: 'admin-host.example' };

it('leaves password hashes sealed for readers that ask no password (the read models), and opens everything else', async () => {
  log = await openLog({ store: 'sqlite::memory:' });
  const events = [
    { type: 'UserRegistered', data: { userId: 'u1', username: 'carol', isStaff: false, isSuperuser: false, passwordHash: 'pbkdf2_sha256$1$salt$hash', at: '2030-01-01T00:00:00.000Z' } },
    { type: 'UserRegistered', data: { userId: 'u2', username: 'dave', isStaff: false, isSuperuser: false, passwordHash: null, at: '2030-01-01T00:00:00.000Z' } },
  ];
  const [carol, dave] = await log.sealMany(
    [
      { streamId: 'user-c', owner: 'carol', events: [events[0]!] },
      { streamId: 'user-d', owner: 'dave', events: [events[1]!] },
    ],
    CONTEXT,
  );
  await log.append('user-c', carol!.events, 'no_stream');
  await log.append('user-d', dave!.events, 'no_stream');

  const all = await log.readAll();
  expect(all.map((e) => e.data)).toEqual(events.map((e) => e.data));
  expect(all.map((e) => e.metadata.source)).toEqual(['admin-host.example', 'admin-host.example']);

  const forReadModels = await log.readAll({ metadata: false, passwords: false });
  const [c, d] = forReadModels.map((e) => e.data as Record<string, unknown>);
  expect(isSealed(c!.passwordHash)).toBe(true);
  expect({ ...c, passwordHash: 'x' }).toEqual({ ...events[0]!.data, passwordHash: 'x' });
  expect(d).toEqual(events[1]!.data);
  expect(forReadModels.map((e) => e.subject)).toEqual(['carol', 'dave']);
});
