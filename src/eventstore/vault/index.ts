export { ERASED, UNREADABLE, isErased, isSealed } from './seal.js';
export type { Vault, VaultKey } from './port.js';
export { SealedLog, resolveUser, sealedLogOf, sealedView, userStreamOf, type SealContext, type SealItem, type Sealed } from './log.js';
export { defaultVaultUrl, openLog, openVault, type LogSettings } from './open.js';
