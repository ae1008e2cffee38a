/**
 * Secure-boot signature policy for a state JSON (spec §6.5 step 2).
 *
 * Signatures are the `_sigs/<part>.json` entries pvr writes: a JWS in flattened JSON
 * form with a detached payload, `{"#spec":"pvs@2","protected":…,"signature":…}`. The
 * protected header (base64url JSON) carries `typ:"PVS"`, `alg`, `pvs:{include,exclude}`
 * and optionally `x5c` (standard-base64 DER certificates, leaf first).
 *
 * What is signed: pvr selects the state keys matching an `include` glob and no
 * `exclude` glob, serialises that sub-object as canonical JSON and signs
 * `<protected>.<base64url(payload)>` (JWS signing input). REF rebuilds the payload by
 * splicing the raw text of the selected members, which equals pvr's canonical form as
 * long as the stored state is itself canonical (pvr writes it so); re-serialising
 * canonically here also accepts a re-formatted state whose content is unchanged.
 *
 * Coverage: a key counts as covered when some signature's include *or* exclude globs
 * mention it — as in REF, and necessarily so, since pvr excludes `<part>/src.json`
 * from every part signature. `_sigs/*` keys need no coverage, and neither does
 * `#spec` (REF's newer code requires it, but pvr's default globs never cover it and
 * its value is fully determined by the parser, which accepts a single spec).
 */
import { X509Certificate, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { canonicalJson, isObject, own } from './json.ts';
import { globMatch } from './glob.ts';
import type { JsonObject, JsonValue, SecureBootMode, SignatureSummary, TrustOptions } from './types.ts';

export type SecureBootFailure =
  | 'Internal error'
  | 'State not fully covered by signatures'
  | 'Signature validation failed';

export type SignatureCheck =
  | { ok: true; signatures: SignatureSummary[]; uncovered: string[] }
  | { ok: false; failure: SecureBootFailure; detail: string };

interface Algorithm {
  hash: 'sha256' | 'sha384' | 'sha512';
  keyType: 'rsa' | 'ec';
  curve?: string;
  /** Raw r||s length for ECDSA (JOSE encoding). */
  rawLength?: number;
}

const ALGORITHMS: Record<string, Algorithm> = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1', rawLength: 64 },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1', rawLength: 96 },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1', rawLength: 132 },
};

const MAX_CHAIN_DEPTH = 8;

class Invalid extends Error {}

const BASE64URL_RE = /^[A-Za-z0-9_-]+={0,2}$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

export function verifySignatures(
  entries: ReadonlyArray<[string, JsonValue]>,
  mode: SecureBootMode,
  trust: TrustOptions = {},
): SignatureCheck {
  if (mode === 'disabled') return { ok: true, signatures: [], uncovered: [] };

  let anchors: X509Certificate[] | undefined;
  let keys: KeyObject[];
  try {
    anchors = trust.trustedCertificates?.flatMap(splitPemCertificates).map((pem) => new X509Certificate(pem));
    keys = (trust.publicKeys ?? []).map((pem) => createPublicKey(pem));
  } catch (error) {
    return { ok: false, failure: 'Internal error', detail: `unusable trust configuration: ${messageOf(error)}` };
  }
  const now = trust.now ?? new Date();

  const covered = new Set<string>();
  const signatures: SignatureSummary[] = [];
  for (const [key, value] of entries) {
    // REF treats any pvs@2 document as a signature; a `_sigs/` entry that is not one is
    // refused instead of ignored so a corrupted signature cannot pass as "no signature".
    const isSignature = key.startsWith('_sigs/') || (isObject(value) && own(value, '#spec') === 'pvs@2');
    if (!isSignature) continue;
    try {
      signatures.push(verifyOne(key, value, entries, anchors, keys, now, covered));
    } catch (error) {
      if (error instanceof Invalid) {
        return { ok: false, failure: 'Signature validation failed', detail: `${key}: ${error.message}` };
      }
      return { ok: false, failure: 'Internal error', detail: `${key}: ${messageOf(error)}` };
    }
  }

  const uncovered =
    mode === 'lenient'
      ? []
      : entries.map(([k]) => k).filter((k) => k !== '#spec' && !k.startsWith('_sigs/') && !covered.has(k));
  if (mode === 'strict' && uncovered.length > 0) {
    const shown = uncovered.slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
    const more = uncovered.length > 5 ? ` and ${uncovered.length - 5} more` : '';
    return { ok: false, failure: 'State not fully covered by signatures', detail: `not covered: ${shown}${more}` };
  }
  return { ok: true, signatures, uncovered };
}

function verifyOne(
  key: string,
  value: JsonValue,
  entries: ReadonlyArray<[string, JsonValue]>,
  anchors: X509Certificate[] | undefined,
  keys: KeyObject[],
  now: Date,
  covered: Set<string>,
): SignatureSummary {
  if (!isObject(value)) throw new Invalid('not a JSON object');
  if (own(value, '#spec') !== 'pvs@2') throw new Invalid('"#spec" is not "pvs@2"');
  const protectedText = own(value, 'protected');
  const signatureText = own(value, 'signature');
  if (typeof protectedText !== 'string' || !BASE64URL_RE.test(protectedText)) {
    throw new Invalid('"protected" is not a base64url string');
  }
  if (typeof signatureText !== 'string' || !BASE64URL_RE.test(signatureText)) {
    throw new Invalid('"signature" is not a base64url string');
  }

  const header = decodeHeader(protectedText);
  const algName = own(header, 'alg');
  if (own(header, 'typ') !== 'PVS') throw new Invalid('protected header "typ" is not "PVS"');
  const alg = typeof algName === 'string' && Object.hasOwn(ALGORITHMS, algName) ? ALGORITHMS[algName] : undefined;
  if (alg === undefined || typeof algName !== 'string') {
    throw new Invalid(`unsupported algorithm ${JSON.stringify(algName ?? null)}`);
  }
  const pvs = own(header, 'pvs');
  if (!isObject(pvs)) throw new Invalid('protected header has no "pvs" object');
  const include = globList(own(pvs, 'include'), 'include');
  const exclude = globList(own(pvs, 'exclude') ?? [], 'exclude');
  const chain = decodeX5c(own(header, 'x5c'));

  const selected: JsonObject = {};
  for (const [k, v] of entries) {
    const inc = include.some((g) => globMatch(g, k));
    const exc = exclude.some((g) => globMatch(g, k));
    if (inc || exc) covered.add(k);
    if (inc && !exc) Object.defineProperty(selected, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const signingInput = Buffer.from(`${protectedText}.${Buffer.from(canonicalJson(selected)).toString('base64url')}`);
  const signature = Buffer.from(signatureText, 'base64url');

  const summary: SignatureSummary = { key, alg: algName, include, exclude, chainVerified: false };
  if (chain !== undefined) {
    const leaf = chain[0] as X509Certificate;
    summary.subject = leaf.subject;
    if (anchors !== undefined) {
      verifyChain(chain, anchors, now);
      summary.chainVerified = true;
    }
    if (!verifyWith(leaf.publicKey, alg, signingInput, signature)) throw new Invalid('signature does not match the signed content');
    return summary;
  }
  if (keys.length === 0) throw new Invalid('no x5c certificate and no configured public key');
  if (!keys.some((k) => verifyWith(k, alg, signingInput, signature))) {
    throw new Invalid('signature does not match the signed content');
  }
  return summary;
}

function decodeHeader(protectedText: string): JsonObject {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(protectedText, 'base64url').toString('utf8'));
  } catch {
    throw new Invalid('protected header is not base64url-encoded JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Invalid('protected header is not a JSON object');
  }
  return header as JsonObject;
}

function globList(value: JsonValue | undefined, name: string): string[] {
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new Invalid(`pvs "${name}" is not an array of strings`);
  }
  return [...value];
}

function decodeX5c(value: JsonValue | undefined): X509Certificate[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new Invalid('"x5c" is not a non-empty array');
  return value.map((item, index) => {
    if (typeof item !== 'string' || !BASE64_RE.test(item)) throw new Invalid(`x5c[${index}] is not base64`);
    try {
      return new X509Certificate(Buffer.from(item, 'base64'));
    } catch {
      throw new Invalid(`x5c[${index}] is not a DER certificate`);
    }
  });
}

/**
 * Walks from the leaf through the x5c certificates to a trust anchor, checking names,
 * signatures and validity periods (REF's mbedtls verification does the same).
 */
function verifyChain(chain: X509Certificate[], anchors: X509Certificate[], now: Date): void {
  const valid = (cert: X509Certificate): boolean => cert.validFromDate <= now && now <= cert.validToDate;
  const issuedBy = (cert: X509Certificate, issuer: X509Certificate): boolean =>
    cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  let current = chain[0] as X509Certificate;
  const intermediates = chain.slice(1);
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (!valid(current)) throw new Invalid(`certificate "${current.subject}" is outside its validity period`);
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return;
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor !== undefined) {
      if (!valid(anchor)) throw new Invalid(`trusted certificate "${anchor.subject}" is outside its validity period`);
      return;
    }
    const next = intermediates.find((c) => c !== current && c.ca && issuedBy(current, c));
    if (next === undefined) throw new Invalid(`certificate "${current.subject}" does not chain to a trusted certificate`);
    current = next;
  }
  throw new Invalid('certificate chain is too long');
}

function verifyWith(key: KeyObject, alg: Algorithm, data: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType !== alg.keyType) return false;
  try {
    if (alg.keyType === 'rsa') return cryptoVerify(alg.hash, data, key, signature);
    if (key.asymmetricKeyDetails?.namedCurve !== alg.curve) return false;
    // JOSE mandates raw r||s; DER is also accepted because REF hands the bytes to
    // mbedtls, which expects DER, so signatures made for REF may use it.
    const dsaEncoding = signature.length === alg.rawLength ? 'ieee-p1363' : 'der';
    return cryptoVerify(alg.hash, data, { key, dsaEncoding }, signature);
  } catch {
    return false;
  }
}

/** Splits a PEM bundle into single certificates; a lone certificate passes through. */
export function splitPemCertificates(bundle: string): string[] {
  const found = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (found === null) throw new Error('no PEM certificate found');
  return found;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
