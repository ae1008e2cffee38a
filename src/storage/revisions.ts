/** Revision names (spec §5.4): which names exist in the API, and which are safe as paths. */

const LOCAL_PREFIX = 'locals/';
const MAX_LOCAL_NAME = 64;

/** Characters a local revision name may use: enough for pvtx (`pvtx-<epoch>-<hex>-<n>`) and sha names. */
const LOCAL_NAME = /^[A-Za-z0-9._+-]+$/;

export function isLocalRevision(name: string): boolean {
  if (!name.startsWith(LOCAL_PREFIX)) return false;
  const local = name.slice(LOCAL_PREFIX.length);
  return local.length > 0 && local.length <= MAX_LOCAL_NAME && local !== '.' && local !== '..' && LOCAL_NAME.test(local);
}

export function isRemoteRevision(name: string): boolean {
  return /^[0-9]+$/.test(name);
}

/** Names a GET may address: remote indexes, local names, and the `current` alias. */
export function isAddressableRevision(name: string): boolean {
  return name === 'current' || isRemoteRevision(name) || isLocalRevision(name);
}
