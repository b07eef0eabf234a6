/** One key of the vault. */
export interface VaultKey {
  keyId: string;
  secret: Buffer;
}

/** The keys `keysFor` makes or finds for one stream. */
export interface KeyRequest {
  streamId: string;
  /** The stream's user, should its user key have to be made. */
  username: string;
  /** How many new password keys. */
  passwords: number;
}

export interface StreamKeys {
  user: VaultKey;
  passwords: VaultKey[];
}

/**
 * The key store of crypto-shredding: per-user data keys and per-password keys, outside the log.
 * Deleting a key here erases what it sealed in every copy of the log at once. No method caches:
 * another process may shred a key at any moment.
 */
export interface Vault {
  /** The HMAC pepper of stream ids: made once, at the vault's creation, and never changed. */
  pepper(): Promise<Buffer>;
  /** The keys of these ids that still exist. */
  keys(keyIds: readonly string[]): Promise<Map<string, Buffer>>;
  /**
   * The user key of a stream, made (with the username it belongs to) when `create` is given and
   * there is none. Two processes creating at once end with the same key.
   */
  userKey(streamId: string, create?: { username: string }): Promise<VaultKey | null>;
  /** The user key and stream of a username, while that user's key exists. */
  userKeyByName(username: string): Promise<(VaultKey & { streamId: string }) | null>;
  /** The usernames of these streams' users, for the streams whose user key exists. */
  usernames(streamIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * In one durable write, for each request: the stream's user key (made with the username when
   * there is none, as `userKey` with `create`) and `passwords` new keys, one per password hash to
   * seal. Resolves once they are on disk, so nothing is ever sealed under a key that a crash loses.
   */
  keysFor(requests: readonly KeyRequest[]): Promise<StreamKeys[]>;
  /**
   * The password keys of the stream that still exist, oldest first: the current hash's, and for a
   * moment during a password change (or after one interrupted before its shred) others.
   */
  passwordKeys(streamId: string): Promise<VaultKey[]>;
  /**
   * Deletes keys of the stream, so that what they sealed never opens again: every key
   * (`{ all: true }`), or the password keys except `keep`. Returns how many were deleted.
   */
  shred(streamId: string, what: { all: true } | { passwordsExcept: string | null }): Promise<number>;
  /** Where the vault is, for messages (never a password). */
  readonly where: string;
  close(): Promise<void>;
}
