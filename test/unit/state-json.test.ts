/**
 * The single owners in src/state of what used to be written several times: the top-level
 * member scan of a state document (parser, deploy and pvtx), the SHA-256 name test (state
 * values, object store, deploy, pvtx, API) and the JSON-object request body parser
 * (/containers, /signal, /daemons, /commands).
 */
import t from 'tap';
import { isPvError } from '../../src/errors.ts';
import { parseCommand } from '../../src/runtime/commands.ts';
import { parseJsonObjectBody } from '../../src/state/json-body.ts';
import { StateError, isSha256, isSha256Name, readDocument } from '../../src/state/json.ts';
import { DeployError, referencedObjects, topLevelEntries } from '../../src/storage/deploy.ts';
import { ObjectStore } from '../../src/storage/objects.ts';

const SHA = 'a'.repeat(64);

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('readDocument: members in document order with the exact text of each value', async (t) => {
  const text = ' {"b": {"2":1, "1" : 2.50}, "10":"x" , "2":[1,"]}"],"k\\"ey":true,"n":-1e3 ,"u":"\\u0041"} ';
  const doc = readDocument(text);
  t.same(doc.members, [
    { key: 'b', text: '{"2":1, "1" : 2.50}' },
    { key: '10', text: '"x"' },
    { key: '2', text: '[1,"]}"]' },
    { key: 'k"ey', text: 'true' },
    { key: 'n', text: '-1e3' },
    { key: 'u', text: '"\\u0041"' },
  ]);
  // Integer-like keys stay where the document put them, unlike Object.keys.
  t.same(Object.keys(doc.json), ['2', '10', 'b', 'k"ey', 'n', 'u']);
  t.same(
    doc.entries,
    doc.members.map(({ key, text: raw }) => [key, JSON.parse(raw)]),
    'parsed entries are the members, value for value',
  );
  t.same(readDocument(' { } ').members, []);
});

t.test('readDocument: refusals are StateErrors; a duplicate names its key', async (t) => {
  const cases: Array<[string, RegExp, string | undefined]> = [
    ['{"#spec":', /^not valid JSON/, undefined],
    ['', /^not valid JSON/, undefined],
    ['[]', /^top level is not a JSON object$/, undefined],
    ['"x"', /^top level is not a JSON object$/, undefined],
    ['{"a":1,"b":2,"a":3}', /^duplicate top-level key "a"$/, 'a'],
    // The same key spelled two ways is still one key.
    ['{"a":1,"\\u0061":2}', /^duplicate top-level key "a"$/, 'a'],
    ['{"__proto__":1,"__proto__":2}', /^duplicate top-level key "__proto__"$/, '__proto__'],
  ];
  for (const [text, message, key] of cases) {
    const error = thrown(() => readDocument(text));
    t.ok(error instanceof StateError, JSON.stringify(text));
    t.match((error as StateError).message, message, JSON.stringify(text));
    t.equal((error as StateError).key, key, JSON.stringify(text));
  }
});

t.test('deploy reads the same members the parser validated, and refuses the same documents', async (t) => {
  // Deploy once had its own scanner; a state the parser accepted must deploy exactly the
  // members the parser (and any signature) saw, and a state it refused must not deploy.
  const accepted = [
    '{"#spec":"pantavisor-service-system@1","1":"x","0":{"a":[1,{"}":"]"}]},"z.json" : null}',
    '\n{\t"a\\\\b" :\r"c" }\n',
    '{"__proto__":{"x":1},"constructor":2}',
  ];
  for (const text of accepted) t.same(topLevelEntries(text), readDocument(text).members, JSON.stringify(text));
  const refused = ['{', '[]', 'null', '{"a":1,"a":1}', '{"a":1,"\\u0061":1}'];
  for (const text of refused) {
    const parserError = thrown(() => readDocument(text));
    const deployError = thrown(() => topLevelEntries(text));
    t.ok(parserError instanceof StateError, `parser refuses ${JSON.stringify(text)}`);
    t.ok(deployError instanceof DeployError, `deploy refuses ${JSON.stringify(text)}`);
    t.equal((deployError as DeployError).code, 'bad-state');
    t.equal((deployError as DeployError).message, `state: ${(parserError as StateError).message}`);
    t.equal((deployError as DeployError).key, (parserError as StateError).key);
  }
});

t.test('isSha256Name: 64 lower-case hex digits, nothing else', async (t) => {
  t.ok(isSha256Name(SHA));
  t.ok(isSha256Name('0123456789abcdef'.repeat(4)));
  for (const bad of ['', 'a'.repeat(63), 'a'.repeat(65), 'A'.repeat(64), `${'a'.repeat(63)}g`, `${SHA}\n`, `\n${SHA}`, ` ${SHA}`, '../'.repeat(21) + 'a']) {
    t.notOk(isSha256Name(bad), JSON.stringify(bad));
  }
  t.ok(isSha256(SHA));
  t.notOk(isSha256(null));
  t.notOk(isSha256(['a'.repeat(64)]));
});

t.test('the object store, deploy and the parser agree on what a sha256 is', async (t) => {
  const store = new ObjectStore('/nonexistent', () => 0);
  const upper = 'A'.repeat(64);
  t.equal(store.pathOf(SHA), `/nonexistent/${SHA}`);
  t.match(thrown(() => store.pathOf(upper)), { kind: 'bad-request' }, 'an upper-case name is no object name');
  t.same(referencedObjects(`{"#spec":"x","a":"${SHA}"}`), [{ key: 'a', sha: SHA }]);
  // A string that is not a sha256 is neither object nor document, so deploy refuses it.
  t.equal((thrown(() => referencedObjects(`{"a":"${upper}"}`)) as DeployError).code, 'bad-value');
});

t.test('parseJsonObjectBody: an object, or a 400 in the endpoint\'s own words', async (t) => {
  t.same(parseJsonObjectBody('{"action":"start"}', 'Invalid JSON'), { action: 'start' });
  const refusal = (text: string, notJson: string, notObject?: string) => {
    const error = thrown(() => parseJsonObjectBody(text, notJson, notObject));
    return isPvError(error) ? { kind: error.kind, message: error.message } : error;
  };
  for (const text of ['', 'nope', '{"a":', '{"a":1}x']) {
    t.same(refusal(text, 'Invalid JSON', 'Invalid action'), { kind: 'bad-request', message: 'Invalid JSON' }, JSON.stringify(text));
  }
  for (const text of ['[]', 'null', '5', '"action"', '[{"action":"start"}]']) {
    t.same(refusal(text, 'Invalid JSON', 'Invalid action'), { kind: 'bad-request', message: 'Invalid action' }, JSON.stringify(text));
    t.same(refusal(text, 'Signal has bad format'), { kind: 'bad-request', message: 'Signal has bad format' }, JSON.stringify(text));
  }
  // A body member named like an Object.prototype property is the body's own, or absent.
  t.same(Object.keys(parseJsonObjectBody('{"__proto__":{"op":"RUN_GC"}}', 'x')), ['__proto__']);
  t.match(thrown(() => parseCommand('{"__proto__":{"op":"RUN_GC","payload":""}}')), { kind: 'bad-request', message: 'Command has bad format' });
});
