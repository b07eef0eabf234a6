import { IMPORTED_TOKEN_NAME, decide, ledgerEventOf, type ImportedUser, type UserState } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/port.js';
import { ProjectionBehindError, ProjectionUnavailableError } from '../projection/port.js';
import type { Actor, Caller, LedgerDeps } from './context.js';
import { executeMany, loadUserStreams } from './execute-many.js';
import { algorithmOf, type PasswordAlgorithm } from './passwords/index.js';
import { requireSuperuser } from './privileges.js';
import { usernameSchema } from './validation.js';

/** One DRF user as a source reader hands it over (src/import's DrfUser): a key only as its digest. */
export interface DrfUserInput {
  username: string;
  password: string;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  dateJoined: string;
  token: { digest: string; keyPrefix: string; created: string } | null;
}

export interface DrfImportInput {
  /** The source as named in events and output (no password). */
  source: string;
  users: readonly DrfUserInput[];
  orphanTokens: number;
}

export interface DrfImportOptions {
  /** Decide and count, append nothing. */
  dryRun?: boolean;
  /** Bring users who exist with other data to DRF's values, rather than skip them. */
  overwrite?: boolean;
  /** Users imported at once: loaded together, their keys made in one vault write, their appends in one commit (default: up to 5,000). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What differs between a tokenledger user and the DRF user of the same name. */
/** What differs from DRF's data; `deleted`: the username belonged to a user deleted here, and stays reserved. */
export type Difference = 'password' | 'staff' | 'superuser' | 'active' | 'token' | 'deleted';

export interface DrfImportSummary {
  source: string;
  dryRun: boolean;
  /** Users read from the source. */
  users: number;
  /** New in tokenledger (or that would be, on a dry run). */
  created: number;
  /** Already there with the same data (an earlier import): nothing to do. */
  unchanged: number;
  /** Existing users brought to DRF's data (--overwrite). */
  overwritten: number;
  /** Existing users with other data, skipped (never overwritten without --overwrite). */
  conflicts: { username: string; differs: Difference[] }[];
  /** Users tokenledger cannot hold, skipped. */
  invalid: { username: string; reason: string }[];
  /** DRF keys that became tokens in this run. */
  tokens: number;
  /**
   * Every user read, by password algorithm. `unusable` (Django's `!…`) and `unsupported` (crypt,
   * anything unknown or malformed) are imported without a password.
   */
  passwords: Partial<Record<PasswordAlgorithm, number>>;
  /** Token rows whose user was not in the source. */
  orphanTokens: number;
  /** Events appended (on a dry run: that would be). */
  events: number;
}

/**
 * Users per batch (a vault commit and a log commit each): large enough that the commits cost
 * little per user, and at most a fiftieth of the import, so that progress shows (and the import commits) in small steps.
 */
const MAX_BATCH = 5_000;
const STEPS = 50;

type Outcome = 'created' | 'unchanged' | 'overwritten' | 'conflict';

/** The stored password string a user should have, or null: none (unusable `!…`, or a scheme nobody can verify). */
function storedPassword(password: string): { hash: string | null; algorithm: PasswordAlgorithm } {
  const algorithm = algorithmOf(password);
  return { hash: algorithm === 'unusable' || algorithm === 'unsupported' ? null : password, algorithm };
}

/**
 * Whether the user's password is the one the import brings. After a re-hash on login the
 * imported string is gone (replaced, and under erasure shredded), so a password last set by an
 * import and since re-hashed counts as the same.
 */
function samePassword(state: Extract<UserState, { exists: true }>, history: readonly RecordedEvent[], hash: string | null): boolean {
  let setByImport = false;
  let rehashed = false;
  for (const recorded of history) {
    const event = ledgerEventOf(recorded);
    if (event?.type === 'UserRegistered' || event?.type === 'UserPasswordSet') {
      setByImport = recorded.metadata.channel === 'import';
      rehashed = false;
    } else if (event?.type === 'UserPasswordRehashed') rehashed = true;
  }
  return rehashed ? setByImport : state.passwordHash === hash;
}

export function differences(state: UserState, history: readonly RecordedEvent[], user: DrfUserInput, hash: string | null): Difference[] {
  if (!state.exists) return [];
  const differs: Difference[] = [];
  if (!samePassword(state, history, hash)) differs.push('password');
  if (state.isStaff !== user.isStaff) differs.push('staff');
  if (state.isSuperuser !== user.isSuperuser) differs.push('superuser');
  if (state.active !== user.isActive) differs.push('active');
  const token = state.tokens[IMPORTED_TOKEN_NAME];
  if (user.token ? token?.digest !== user.token.digest : token !== undefined) differs.push('token');
  return differs;
}

function plan(
  state: UserState,
  history: readonly RecordedEvent[],
  user: DrfUserInput,
  hash: string | null,
  overwrite: boolean,
): { outcome: Outcome; differs: Difference[]; overwrite: ImportedUser['overwrite'] } {
  // A deleted user's username stays reserved (no new user inherits an erased user's trail): never
  // revived, not even with --overwrite.
  if (!state.exists) return state.deleted ? { outcome: 'conflict', differs: ['deleted'], overwrite: null } : { outcome: 'created', differs: [], overwrite: null };
  const differs = differences(state, history, user, hash);
  if (differs.length === 0) return { outcome: 'unchanged', differs, overwrite: null };
  if (!overwrite) return { outcome: 'conflict', differs, overwrite: null };
  return { outcome: 'overwritten', differs, overwrite: { keepPassword: !differs.includes('password') } };
}

/**
 * Imports DRF users and their keys, a batch at a time through `executeMany` (the app's write path
 * for many users): each user in one append, so an import stopped at any point holds every user
 * entirely or not at all, and a second run appends nothing for users already there. Appends skip
 * the per-write wait for the read models and wait once at the end.
 */
export async function importDrf(deps: LedgerDeps, caller: Caller, input: DrfImportInput, options: DrfImportOptions = {}): Promise<DrfImportSummary> {
  // An import creates staff users and superusers and may overwrite anyone: the operator's work.
  requireSuperuser(caller, 'import users');
  const summary: DrfImportSummary = {
    source: input.source,
    dryRun: options.dryRun ?? false,
    users: input.users.length,
    created: 0,
    unchanged: 0,
    overwritten: 0,
    conflicts: [],
    invalid: [],
    tokens: 0,
    passwords: {},
    orphanTokens: input.orphanTokens,
    events: 0,
  };
  const { actor, channel: _channel, source: _source, correlationId } = caller;
  const importing: Actor = { actor, channel: 'import', source: input.source, correlationId: correlationId ?? deps.newId() };
  const writing: LedgerDeps = { ...deps, afterAppend: async () => {} };
  const overwrite = options.overwrite ?? false;
  let last: bigint | null = null;

  const imported = (user: DrfUserInput, hash: string | null, now: string, overwriting: ImportedUser['overwrite']): ImportedUser & { now: string } => ({
    userId: deps.newId(),
    username: user.username,
    active: user.isActive,
    isStaff: user.isStaff,
    isSuperuser: user.isSuperuser,
    passwordHash: hash,
    joinedAt: user.dateJoined,
    token: user.token && { tokenId: deps.newId(), digest: user.token.digest, keyPrefix: user.token.keyPrefix, createdAt: user.token.created },
    overwrite: overwriting,
    now,
  });

  const importBatch = async (users: readonly DrfUserInput[]): Promise<void> => {
    const valid: { user: DrfUserInput; hash: string | null; decided?: ReturnType<typeof plan> }[] = [];
    for (const user of users) {
      const { hash, algorithm } = storedPassword(user.password);
      summary.passwords[algorithm] = (summary.passwords[algorithm] ?? 0) + 1;
      if (usernameSchema.safeParse(user.username).success) valid.push({ user, hash });
      else summary.invalid.push({ username: user.username, reason: 'not a valid tokenledger username (letters, digits and @/./+/-/_, at most 150)' });
    }
    let appended: { type: string }[][];
    if (summary.dryRun) {
      const loaded = await loadUserStreams(deps, valid.map(({ user }) => user.username));
      appended = valid.map((one, i) => {
        const { state, history } = loaded[i]!;
        one.decided = plan(state, history, one.user, one.hash, overwrite);
        return decide({ type: 'ImportUser', data: imported(one.user, one.hash, new Date(0).toISOString(), one.decided.overwrite) }, state, one.user.username);
      });
    } else {
      const executed = await executeMany(
        writing,
        importing,
        valid.map((one) => ({
          username: one.user.username,
          command: (now, state, history) => {
            one.decided = plan(state, history, one.user, one.hash, overwrite);
            return { type: 'ImportUser', data: imported(one.user, one.hash, now, one.decided.overwrite) };
          },
        })),
      );
      appended = executed.map((result) => {
        if (result.position !== null && (last === null || result.position > last)) last = result.position;
        return result.events;
      });
    }
    valid.forEach(({ user, decided }, i) => {
      const { outcome, differs } = decided!;
      if (outcome === 'conflict') summary.conflicts.push({ username: user.username, differs });
      else summary[outcome]++;
      summary.events += appended[i]!.length;
      summary.tokens += appended[i]!.filter((e) => e.type === 'TokenIssued').length;
    });
  };

  const total = input.users.length;
  const size = Math.max(1, options.batchSize ?? Math.min(MAX_BATCH, Math.ceil(total / STEPS)));
  for (let done = 0; done < total; ) {
    const batch = input.users.slice(done, done + size);
    await importBatch(batch);
    done += batch.length;
    options.onProgress?.(done, total);
  }
  summary.conflicts.sort((a, b) => a.username.localeCompare(b.username));
  summary.invalid.sort((a, b) => a.username.localeCompare(b.username));
  if (last !== null) {
    try {
      await deps.afterAppend(last);
    } catch (error) {
      if (error instanceof ProjectionUnavailableError) throw new ProjectionBehindError(error);
      throw error;
    }
  }
  return summary;
}
