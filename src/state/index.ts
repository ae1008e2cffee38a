/**
 * State module: parsing and validation of a revision's state JSON
 * (`pantavisor-service-system@1`) into the model used by `PUT /steps/locals/{name}`
 * and by the container runtime.
 */
export { judgeState, parseState, PARSER_MESSAGE, type StateVerdict } from './parse.ts';
export { DEFAULT_GROUPS, AUTO_RECOVERY_DEFAULTS, effectiveAutoRecovery } from './groups.ts';
export { parseDuration, formatDuration, parseBackoffPolicy, formatBackoffPolicy } from './duration.ts';
export { verifySignatures, splitPemCertificates } from './signature.ts';
export type { SecureBootFailure, SignatureCheck } from './signature.ts';
export { canonicalJson, isSha256Name } from './json.ts';
export type { Member } from './json.ts';
export { globMatch } from './glob.ts';
export * from './types.ts';
