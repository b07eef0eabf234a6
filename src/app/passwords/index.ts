export { hashPassword } from './hash.js';
export { MAX_PASSWORD_BYTES } from './limits.js';
export type { DjangoAlgorithm, PasswordAlgorithm } from './scheme.js';
export { algorithmOf, verifyPassword, type PasswordCheck } from './verify.js';
export { defaultOverall, PasswordWork, type Admission, type PasswordWorkOptions } from './work.js';
