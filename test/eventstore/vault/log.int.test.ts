import { afterEach, expect, it } from 'vitest';
import { ERASED, isSealed, openLog, type SealedLog } from '../../../src/eventstore/vault/index.js';
import { keyIdOf } from '../../../src/eventstore/vault/seal.js';

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
  // Readers that name users by their events' usernames: the same events, without a subject.
  const withoutSubjects = await log.readAll({ metadata: false, passwords: false, subjects: false });
  expect(withoutSubjects.map((e) => e.subject)).toEqual([undefined, undefined]);
  expect(withoutSubjects.map(({ subject: _, ...rest }) => rest)).toEqual(forReadModels.map(({ subject: _, ...rest }) => rest));
});

it("seals a batch's metadata under the acting user's key when the actor is a user here, under each owner's otherwise; a shred erases what each key sealed", async () => {
  log = await openLog({ store: 'sqlite::memory:' });
  const registered = (username: string) => ({
    type: 'UserRegistered',
    data: { userId: `id-${username}`, username, isStaff: true, isSuperuser: true, passwordHash: null, at: '2030-01-01T00:00:00.000Z' },
  });
  const admin = { actor: 'admin', channel: 'import', source: 'sqlite:/srv/django.db' };
  const stream: Record<string, string> = {};
  for (const name of ['admin', 'erin', 'frank', 'grace', 'hal']) stream[name] = await log.hmacStreamId(name);
  const [first] = await log.sealMany([{ streamId: stream.admin!, owner: 'admin', events: [registered('admin')] }], admin);
  await log.append(stream.admin!, first!.events, 'no_stream');
  // Three users in one batch, the actor a user: actor and source under the admin's key.
  const owners = ['erin', 'frank', 'grace'];
  const sealed = await log.sealMany(
    owners.map((owner) => ({ streamId: stream[owner]!, owner, events: [registered(owner), registered(owner)] })),
    admin,
  );
  for (const [i, owner] of owners.entries()) await log.append(stream[owner]!, sealed[i]!.events, 'no_stream');
  // An actor with no user here: the actor stays plain, the source is sealed under the owner's key.
  const stranger = { actor: 'deploy', channel: 'import', source: 'sqlite:/srv/django.db' };
  const [hal] = await log.sealMany([{ streamId: stream.hal!, owner: 'hal', events: [registered('hal')] }], stranger);
  await log.append(stream.hal!, hal!.events, 'no_stream');

  const stored = await log.sealed.readAll();
  const byStream = (id: string) => stored.filter((e) => e.streamId === id);
  const adminKey = keyIdOf(byStream(stream.admin!)[0]!.metadata.actor);
  for (const owner of owners) {
    for (const event of byStream(stream[owner]!)) {
      expect(keyIdOf(event.metadata.actor)).toBe(adminKey);
      expect(keyIdOf(event.metadata.source)).toBe(adminKey);
      expect(keyIdOf((event.data as { username: string }).username)).not.toBe(adminKey);
    }
  }
  expect(byStream(stream.hal!)[0]!.metadata.actor).toBe('deploy');
  expect(keyIdOf(byStream(stream.hal!)[0]!.metadata.source)).toBe(keyIdOf((byStream(stream.hal!)[0]!.data as { username: string }).username));
  let opened = await log.readAll();
  expect(opened.map((e) => [e.subject, e.metadata.actor, e.metadata.source])).toEqual([
    ['admin', 'admin', admin.source],
    ...owners.flatMap((owner) => [[owner, 'admin', admin.source], [owner, 'admin', admin.source]]),
    ['hal', 'deploy', stranger.source],
  ]);

  await log.erase(stream.admin!);
  opened = await log.readAll();
  expect(opened.map((e) => [e.subject, e.metadata.actor, e.metadata.source])).toEqual([
    [ERASED, ERASED, ERASED],
    ...owners.flatMap((owner) => [[owner, ERASED, ERASED], [owner, ERASED, ERASED]]),
    ['hal', 'deploy', stranger.source],
  ]);
});

it('resolveMany finds each username where resolve does: a live user, one deleted (events, no key), one from before sealing (with and without a key), one unknown', async () => {
  log = await openLog({ store: 'sqlite::memory:' });
  expect(log.sealed.readStreams).toBeTypeOf('function'); // the one-read path is the one under test
  const registered = (username: string) => ({
    type: 'UserRegistered',
    data: { userId: `id-${username}`, username, isStaff: false, isSuperuser: false, passwordHash: null, at: '2030-01-01T00:00:00.000Z' },
  });
  const context = { actor: 'operator', channel: 'cli', source: 'host' };
  for (const name of ['live', 'gone']) {
    const streamId = await log.hmacStreamId(name);
    const [sealed] = await log.sealMany([{ streamId, owner: name, events: [registered(name)] }], context);
    await log.append(streamId, sealed!.events, 'no_stream');
  }
  await log.erase(await log.hmacStreamId('gone'));
  // Streams from before sealing: `user-<username>`, plain; one of them has since got a user key.
  for (const name of ['old', 'old-keyed']) await log.sealed.append(`user-${name}`, [{ ...registered(name), metadata: {} }], 'no_stream');
  await log.vault.userKey('user-old-keyed', { username: 'old-keyed' });

  const names = ['live', 'gone', 'old', 'old-keyed', 'nobody', 'live'];
  const many = await log.resolveMany(names);
  const one = await Promise.all(names.map((name) => log!.resolve(name)));
  expect(many.map((r) => r.streamId)).toEqual(one.map((r) => r.streamId));
  expect(many.map((r) => r.history)).toEqual(one.map((r) => r.history));
  expect(many.map((r) => [r.streamId.startsWith('user-old'), r.history.length])).toEqual([
    [false, 1],
    [false, 1],
    [true, 1],
    [true, 1],
    [false, 0],
    [false, 1],
  ]);
});
