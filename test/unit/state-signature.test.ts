import t from 'tap';
import { X509Certificate, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalJson,
  globMatch,
  parseState,
  verifySignatures,
  type JsonObject,
  type JsonValue,
  type ParseOptions,
  type ParseResult,
  type SecureBootMode,
} from '../../src/state/index.ts';

const PKI = join(import.meta.dir, '..', 'fixtures', 'state', 'pki');
const pem = (name: string): string => readFileSync(join(PKI, name), 'utf8');

const SPEC = 'pantavisor-service-system@1';
const SHA = 'c'.repeat(64);
/** The fixture certificates are valid 2026-11-27 … 2126-11-03. */
const NOW = new Date('2030-01-01T00:00:00Z');

const COVERED_MESSAGE = 'Secureboot: State not fully covered by signatures';
const INVALID_MESSAGE = 'Secureboot: Signature validation failed';
const INTERNAL_MESSAGE = 'Secureboot: Internal error';

type TapTest = Tap.Test;

interface SignOptions {
  keyFile: string;
  certFiles?: string[];
  alg?: string;
  include: string[];
  exclude?: string[];
  dsaEncoding?: 'der' | 'ieee-p1363';
  header?: JsonObject;
  /** Sign this exact payload text instead of deriving it from the state. */
  payload?: string;
}

const HASHES: Record<string, string> = { RS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

/** Produces a `_sigs/*.json` value the way pvr does (flattened JWS, detached payload). */
function pvsSign(state: JsonObject, o: SignOptions): JsonObject {
  const alg = o.alg ?? (o.keyFile.startsWith('rsa') ? 'RS256' : 'ES256');
  const header: JsonObject = { alg, typ: 'PVS', pvs: { include: o.include, exclude: o.exclude ?? [] }, ...o.header };
  if (o.certFiles !== undefined) header.x5c = o.certFiles.map((f) => new X509Certificate(pem(f)).raw.toString('base64'));
  const protectedText = Buffer.from(JSON.stringify(header)).toString('base64url');
  const selected: JsonObject = {};
  for (const [k, v] of Object.entries(state)) {
    if (o.include.some((g) => globMatch(g, k)) && !(o.exclude ?? []).some((g) => globMatch(g, k))) selected[k] = v;
  }
  const payload = o.payload ?? canonicalJson(selected);
  const input = `${protectedText}.${Buffer.from(payload).toString('base64url')}`;
  const key = createPrivateKey(pem(o.keyFile));
  const signature = cryptoSign(HASHES[alg] ?? 'sha256', Buffer.from(input), {
    key,
    dsaEncoding: o.dsaEncoding ?? 'ieee-p1363',
  });
  return { '#spec': 'pvs@2', protected: protectedText, signature: signature.toString('base64url') };
}

/** A container part the way `pvr sig add --part app` signs it. */
function appState(): JsonObject {
  return {
    '#spec': SPEC,
    '_config/app/etc/app.conf': SHA,
    'app/root.squashfs': SHA,
    'app/run.json': { name: 'app', group: 'app', roles: [], 'root-volume': 'root.squashfs' },
    'app/src.json': { docker_name: 'example/app' },
  };
}
const PART = { include: ['app/**', '_config/app/**'], exclude: ['app/src.json'] };

function signed(extra: Partial<SignOptions> = {}, state: JsonObject = appState()): JsonObject {
  return { ...state, '_sigs/app.json': pvsSign(state, { keyFile: 'rsa-leaf.key', certFiles: ['rsa-leaf.crt'], ...PART, ...extra }) };
}

const parse = (doc: JsonObject | string, mode: SecureBootMode, options: Partial<ParseOptions> = {}): ParseResult =>
  parseState(typeof doc === 'string' ? doc : JSON.stringify(doc), {
    initMode: 'appengine',
    goalsTimeout: 120,
    secureBootMode: mode,
    now: NOW,
    ...options,
  });

function accepted(tt: TapTest, result: ParseResult, what: string): void {
  tt.same(result.ok ? 'accepted' : `${result.message} (${result.reason})`, 'accepted', what);
}

function refused(tt: TapTest, result: ParseResult, message: string, reason: RegExp, what: string): void {
  tt.same(
    result.ok ? { ok: true } : { message: result.message, reasonMatches: reason.test(result.reason) },
    { message, reasonMatches: true },
    `${what}${result.ok ? '' : ` — ${result.reason}`}`,
  );
}

t.test('disabled mode skips every check', async (t) => {
  accepted(t, parse({ '#spec': SPEC, '_sigs/x.json': 'garbage', 'a/b.bin': SHA }, 'disabled'), 'garbage signature ignored');
});

t.test('lenient mode', async (t) => {
  accepted(t, parse({ '#spec': SPEC, 'a/b.bin': SHA }, 'lenient'), 'no signature, no coverage needed');
  const result = parse(signed(), 'lenient');
  accepted(t, result, 'valid RS256 signature with x5c');
  if (result.ok) {
    t.same(result.state.signatures, [
      {
        key: '_sigs/app.json',
        alg: 'RS256',
        include: PART.include,
        exclude: PART.exclude,
        subject: 'CN=pv-ctrl test RSA signer',
        chainVerified: false,
      },
    ]);
  }
  const tampered = signed();
  tampered['app/root.squashfs'] = 'd'.repeat(64);
  refused(t, parse(tampered, 'lenient'), INVALID_MESSAGE, /_sigs\/app.json: signature does not match/, 'covered content changed');
  const extra = { ...signed(), 'other/x.bin': SHA };
  accepted(t, parse(extra, 'lenient'), 'uncovered keys are fine in lenient mode');
});

t.test('strict mode requires coverage', async (t) => {
  accepted(t, parse(signed(), 'strict'), 'part signature covers everything (src.json via exclude, #spec exempt)');
  refused(t, parse({ '#spec': SPEC, 'a/b.bin': SHA }, 'strict'), COVERED_MESSAGE, /not covered: "a\/b.bin"/, 'unsigned state');
  refused(t, parse({ ...signed(), 'other/x.bin': SHA }, 'strict'), COVERED_MESSAGE, /"other\/x.bin"/, 'one uncovered key');
  const bad = signed();
  bad['app/root.squashfs'] = 'd'.repeat(64);
  refused(t, parse({ ...bad, 'other/x.bin': SHA }, 'strict'), INVALID_MESSAGE, /does not match/, 'invalid signature reported before coverage');
  const state = { ...appState(), 'bsp/run.json': { fit: 'pv.fit' }, 'bsp/pv.fit': SHA };
  const two = {
    ...state,
    '_sigs/app.json': pvsSign(state, { keyFile: 'rsa-leaf.key', certFiles: ['rsa-leaf.crt'], ...PART }),
    '_sigs/bsp.json': pvsSign(state, { keyFile: 'ec-leaf.key', certFiles: ['ec-leaf.crt'], include: ['bsp/**'] }),
  };
  accepted(t, parse(two, 'strict', { initMode: 'embedded' }), 'coverage is the union of all signatures');
});

t.test('audit mode forgives coverage, not invalid signatures', async (t) => {
  const result = parse({ ...signed(), 'other/x.bin': SHA }, 'audit');
  accepted(t, result, 'uncovered key forgiven');
  const bad = signed();
  bad['app/run.json'] = { name: 'app', roles: ['mgmt'] };
  refused(t, parse(bad, 'audit'), INVALID_MESSAGE, /does not match/, 'modified run.json still fails');
  const check = verifySignatures(Object.entries({ ...signed(), 'other/x.bin': SHA }) as Array<[string, JsonValue]>, 'audit', { now: NOW });
  t.same(check.ok ? check.uncovered : null, ['other/x.bin'], 'audit reports what it forgave');
});

t.test('algorithms and encodings', async (t) => {
  accepted(t, parse(signed({ keyFile: 'ec-leaf.key', certFiles: ['ec-leaf.crt'] }), 'strict'), 'ES256, JOSE r||s');
  accepted(t, parse(signed({ keyFile: 'ec-leaf.key', certFiles: ['ec-leaf.crt'], dsaEncoding: 'der' }), 'strict'), 'ES256, DER');
  refused(
    t,
    parse(signed({ keyFile: 'ec-leaf.key', certFiles: ['ec-leaf.crt'], alg: 'ES384' }), 'lenient'),
    INVALID_MESSAGE,
    /does not match/,
    'alg/curve mismatch',
  );
  refused(
    t,
    parse(signed({ keyFile: 'rsa-leaf.key', certFiles: ['ec-leaf.crt'] }), 'lenient'),
    INVALID_MESSAGE,
    /does not match/,
    'x5c leaf is not the signing key',
  );
  refused(t, parse(signed({ alg: 'HS256' }), 'lenient'), INVALID_MESSAGE, /unsupported algorithm "HS256"/, 'HMAC refused');
  refused(t, parse(signed({ header: { typ: 'JWT' } }), 'lenient'), INVALID_MESSAGE, /"typ" is not "PVS"/, 'typ must be PVS');
});

t.test('payload is pvr canonical JSON of the selected keys', async (t) => {
  const state: JsonObject = {
    '#spec': SPEC,
    'app/run.json': { name: 'app', z: [1, 2.5, 'é\n"'], a: { y: true, x: null } },
    'app/root.squashfs': SHA,
  };
  // Written by hand from the canonical form rules, independently of canonicalJson().
  const payload =
    `{"app/root.squashfs":"${SHA}","app/run.json":{"a":{"x":null,"y":true},"name":"app","z":[1,2.5E0,"é\\n\\""]}}`;
  t.equal(canonicalJson({ 'app/run.json': state['app/run.json'] as JsonValue, 'app/root.squashfs': SHA }), payload);
  const doc = { ...state, '_sigs/app.json': pvsSign(state, { keyFile: 'ec-leaf.key', certFiles: ['ec-leaf.crt'], include: ['app/**'], payload }) };
  accepted(t, parse(doc, 'strict'), 'hand-built payload verifies');
  accepted(t, parse(JSON.stringify(doc, null, 4), 'strict'), 'a re-formatted (non-canonical) state still verifies');
});

t.test('trust anchors and configured keys', async (t) => {
  const ca = [pem('ca.crt')];
  const chained = parse(signed(), 'strict', { trustedCertificates: ca });
  accepted(t, chained, 'leaf issued by a trusted CA');
  t.equal(chained.ok && chained.state.signatures[0]?.chainVerified, true);
  accepted(t, parse(signed({ certFiles: ['rsa-leaf.crt', 'ca.crt'] }), 'strict', { trustedCertificates: ca }), 'chain including the CA');
  accepted(t, parse(signed(), 'strict', { trustedCertificates: [pem('rsa-leaf.crt')] }), 'leaf itself trusted');
  refused(
    t,
    parse(signed({ keyFile: 'rogue.key', certFiles: ['rogue.crt'], alg: 'ES256' }), 'lenient', { trustedCertificates: ca }),
    INVALID_MESSAGE,
    /does not chain to a trusted certificate/,
    'self-signed rogue certificate',
  );
  refused(
    t,
    parse(signed(), 'lenient', { trustedCertificates: ca, now: new Date('2200-01-01T00:00:00Z') }),
    INVALID_MESSAGE,
    /outside its validity period/,
    'expired certificate',
  );
  refused(t, parse(signed(), 'lenient', { trustedCertificates: [] }), INVALID_MESSAGE, /does not chain/, 'empty trust store trusts nothing');

  accepted(t, parse(signed({ certFiles: undefined }), 'strict', { publicKeys: [pem('rsa-leaf.pub')] }), 'no x5c: configured key');
  refused(
    t,
    parse(signed({ certFiles: undefined }), 'strict'),
    INVALID_MESSAGE,
    /no x5c certificate and no configured public key/,
    'no x5c and no key',
  );
  refused(
    t,
    parse(signed(), 'lenient', { trustedCertificates: ['not a pem'] }),
    INTERNAL_MESSAGE,
    /unusable trust configuration/,
    'broken trust configuration',
  );
});

t.test('malformed signature documents', async (t) => {
  const good = signed()['_sigs/app.json'] as JsonObject;
  const cases: Array<[string, JsonValue, RegExp]> = [
    ['not an object', 'eyJ', /not a JSON object/],
    ['wrong #spec', { ...good, '#spec': 'pvs@1' }, /"#spec" is not "pvs@2"/],
    ['no protected', { '#spec': 'pvs@2', signature: good.signature ?? '' }, /"protected" is not a base64url string/],
    ['no signature', { '#spec': 'pvs@2', protected: good.protected ?? '' }, /"signature" is not a base64url string/],
    ['protected not JSON', { ...good, protected: Buffer.from('nope').toString('base64url') }, /not base64url-encoded JSON/],
    ['no pvs', { ...good, protected: Buffer.from('{"alg":"RS256","typ":"PVS"}').toString('base64url') }, /no "pvs" object/],
    [
      'include not a list',
      { ...good, protected: Buffer.from('{"alg":"RS256","typ":"PVS","pvs":{"include":"**"}}').toString('base64url') },
      /"include" is not an array of strings/,
    ],
    [
      'x5c garbage',
      { ...good, protected: Buffer.from('{"alg":"RS256","typ":"PVS","pvs":{"include":[]},"x5c":["AAAA"]}').toString('base64url') },
      /x5c\[0\] is not a DER certificate/,
    ],
  ];
  for (const [what, value, reason] of cases) {
    refused(t, parse({ ...appState(), '_sigs/app.json': value }, 'lenient'), INVALID_MESSAGE, reason, what);
  }
  const elsewhere = { ...appState(), 'misc/sig.json': { ...good, signature: 'AAAA' } };
  refused(t, parse(elsewhere, 'lenient'), INVALID_MESSAGE, /misc\/sig.json: signature does not match/, 'pvs@2 outside _sigs/ is verified too');
});

t.test('order of checks', async (t) => {
  const doc: JsonObject = { ...signed(), 'app/root.squashfs': 'd'.repeat(64) };
  delete doc['#spec'];
  refused(t, parse(doc, 'lenient'), INVALID_MESSAGE, /does not match/, 'signature policy runs before the parse');
  refused(t, parse('{"#spec":', 'strict'), 'Parser: State JSON has bad format', /not valid JSON/, 'unparseable text is a Parser failure');
});

t.test('glob semantics of include/exclude', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['app/**', 'app/run.json', true],
    ['app/**', 'app/lib/x.so', true],
    ['app/**', 'apps/run.json', false],
    ['**', '#spec', true],
    ['**/src.json', 'src.json', true],
    ['**/src.json', 'a/b/src.json', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['*', 'bsp/run.json', false],
    ['*.json', 'device.json', true],
    ['app/?un.json', 'app/run.json', true],
    ['{app,bsp}/run.json', 'bsp/run.json', true],
    ['[!b]sp/run.json', 'bsp/run.json', false],
    ['app.json', 'appxjson', false],
  ];
  for (const [pattern, path, expected] of cases) t.equal(globMatch(pattern, path), expected, `${pattern} ~ ${path}`);
});
