import type { SnapshotStore, StoredSnapshot } from '../snapshots.js';
import type { Vault } from './port.js';
import { isSealed, keyIdOf, seal, unseal } from './seal.js';

/** The checksum column of a sealed snapshot: this marker, then the id of its password key ('' for none). */
const SEALED_MARK = 'sealed:';

/**
 * The snapshots of a sealing log. A snapshot holds a user's opened state: their username (sealed
 * under the user key in the events) and their current password hash (sealed under a key of its
 * own, shredded when the password changes). So a snapshot is sealed twice: under that password
 * key, then under the user key. A copy of the database (a backup) shows nothing of the user; once
 * the password changes or the user is deleted, no copy of the snapshot opens again, even with the
 * live vault. A snapshot that does not open is a cache miss. The owner's checksum is sealed with
 * the body (no hash of the opened state stays in clear) and, opened, still binds the body to the
 * row's stream, revision and anchor.
 */
export class SealedSnapshots implements SnapshotStore {
  constructor(
    private readonly inner: SnapshotStore,
    private readonly vault: Vault,
  ) {}

  async load(streamId: string): Promise<StoredSnapshot | null> {
    const stored = await this.inner.load(streamId);
    if (stored === null) return null;
    if (!stored.checksum.startsWith(SEALED_MARK)) {
      // Kept in clear (written before snapshots were sealed): not trusted, and deleted (best effort).
      await this.inner.deleteSnapshots(streamId).catch(() => {});
      return null;
    }
    const userKeyId = keyIdOf(stored.body);
    const passwordKeyId = stored.checksum.slice(SEALED_MARK.length);
    if (userKeyId === null) return null;
    try {
      const keys = await this.vault.keys(passwordKeyId === '' ? [userKeyId] : [userKeyId, passwordKeyId]);
      let opened = unseal(stored.body, keys.get(userKeyId));
      if (passwordKeyId !== '') {
        if (keyIdOf(opened) !== passwordKeyId) return null;
        opened = unseal(opened, keys.get(passwordKeyId));
      }
      if (!Array.isArray(opened) || opened.length !== 2 || typeof opened[0] !== 'string' || typeof opened[1] !== 'string') return null;
      return { ...stored, body: opened[0], checksum: opened[1] };
    } catch {
      return null;
    }
  }

  /**
   * Sealed under the stream's oldest password key (if it has one), then its user key; no snapshot
   * for a stream without a user key (erased, or never sealed). Why that key: a password change
   * makes a new key, appends, deletes the stream's snapshots, then shreds every password key but
   * the new one. While a change is under way the oldest key is one the change shreds, so a snapshot
   * of the older state saved then (and any backup of it) dies with that key; once the older keys
   * are shredded, the deletion's floor already refuses a snapshot of the older state. Otherwise the
   * stream has one password key: the current hash's.
   */
  async save(snapshot: StoredSnapshot): Promise<void> {
    if (isSealed(snapshot.body)) throw new Error('SealedSnapshots.save: the body is already sealed');
    const [userKey, passwordKeys] = await Promise.all([this.vault.userKey(snapshot.streamId), this.vault.passwordKeys(snapshot.streamId)]);
    if (userKey === null) return;
    const passwordKey = passwordKeys[0];
    let body: unknown = [snapshot.body, snapshot.checksum];
    if (passwordKey) body = seal(body, passwordKey.keyId, passwordKey.secret);
    await this.inner.save({
      ...snapshot,
      body: seal(body, userKey.keyId, userKey.secret),
      checksum: `${SEALED_MARK}${passwordKey?.keyId ?? ''}`,
    });
  }

  deleteSnapshots(streamId: string): Promise<void> {
    return this.inner.deleteSnapshots(streamId);
  }
}
