/**
 * Seeded HTTP fuzzing against the real daemon. Each connection carries a few good requests and
 * then, usually, something malformed (request line, method, headers, framing, chunk sizes) or a
 * huge / deeply nested JSON body, in one write, half-closed or not. Invariants: every good
 * request before the bad one is answered, in order; the daemon never crashes; `GET /steps`
 * keeps answering; RSS stays bounded. Replay a failure with PVCTRL_FUZZ_SEED=<seed>.
 */
import t from 'tap';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { halfCloseExchange, rssMiB, statusLines } from './http-support.ts';
import { seededRandom } from '../helpers/random.ts';

const SEED = Number(process.env.PVCTRL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CONNECTIONS = Number(process.env.PVCTRL_FUZZ_CONNECTIONS ?? 1000);
const PARALLEL = 16;


const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (max: number): number => Math.floor(random() * max);
const GOOD = (close: boolean): string => `GET /steps/current HTTP/1.1\r\nHost: localhost\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const bytes = (length: number): string => Array.from({ length }, () => String.fromCharCode(int(256))).join('');

/**
 * Something the gate must refuse, or a well-formed request with a hostile body. Bodies stay under
 * the 1 MiB drain limit: a larger one refused early is cut off by the close, and a client still
 * writing it gets EPIPE before it reads the answer (documented in docs/reliability.md).
 */
function hostile(): { text: string; wellFramed: boolean } {
  const body = (path: string, payload: string): string => `PUT ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`;
  const generators: Array<() => { text: string; wellFramed: boolean }> = [
    () => ({ text: `${bytes(1 + int(40))}\r\n\r\n`, wellFramed: false }),
    () => ({ text: `${pick(['CONNECT', 'PATCH', 'OPTIONS', 'TRACE', 'G ET', 'get', 'BREW'])} /steps HTTP/1.1\r\nHost: localhost\r\n\r\n`, wellFramed: false }),
    () => ({ text: `GET /steps HTTP/${pick(['0.9', '2.0', '1.2', '1', 'x.y'])}\r\n\r\n`, wellFramed: false }),
    () => ({ text: `GET /steps HTTP/1.1\r\n${pick([' folded', 'NoColon', ': empty-name', 'X\x00: y', 'X: a\x01b'])}\r\n\r\n`, wellFramed: false }),
    () => ({ text: `PUT /user-meta/f HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, wellFramed: false }),
    () => ({ text: `PUT /user-meta/f HTTP/1.1\r\nContent-Length: ${pick(['-1', '1e3', '', '0x10', '99999999999999999999', '3, 4'])}\r\n\r\nabc`, wellFramed: false }),
    () => ({ text: `PUT /user-meta/f HTTP/1.1\r\nTransfer-Encoding: ${pick(['identity', 'gzip', 'chunked, gzip'])}\r\n\r\nabc`, wellFramed: false }),
    () => ({ text: `PUT /user-meta/f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['zz', '-1', '3 3', '', 'ffffffffffffffffff'])}\r\nabc\r\n0\r\n\r\n`, wellFramed: false }),
    () => ({ text: body(pick(['/steps/locals/fuzz', '/commands', '/user-meta/fuzz', '/device-meta/fuzz']), nested(1 + int(20_000))), wellFramed: true }),
    () => ({ text: body(pick(['/steps/locals/fuzz', '/commands', '/user-meta/fuzz']), `{"a":"${'x'.repeat(int(900_000))}"}`), wellFramed: true }),
    () => ({ text: body('/commands', bytes(int(300))), wellFramed: true }),
  ];
  return pick(generators)();
}

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon();
});
t.teardown(() => daemon?.dispose());

t.test(`seeded fuzzing (PVCTRL_FUZZ_SEED=${SEED})`, async (t) => {
  t.comment(`fuzz seed ${SEED}: replay with PVCTRL_FUZZ_SEED=${SEED}`);
  const pid = daemon.process.pid as number;
  const idle = rssMiB(pid);
  const cases = Array.from({ length: CONNECTIONS }, () => {
    const good = int(4);
    const bad = random() < 0.8 ? hostile() : undefined;
    const halfClose = bad !== undefined || random() < 0.5;
    const goods = Array.from({ length: good }, (_, index) => GOOD(bad === undefined && !halfClose && index === good - 1));
    const text = goods.join('') + (bad?.text ?? '');
    return { good, bad, halfClose: halfClose || good === 0, text };
  });
  let requests = 0;
  let failures = 0;
  let peak = idle;
  for (let index = 0; index < cases.length; index += PARALLEL) {
    const slice = cases.slice(index, index + PARALLEL);
    const answers = await Promise.all(
      slice.map(async (item) => {
        const started = Date.now();
        const answer = await halfCloseExchange(daemon.socket, item.text, 15_000, item.halfClose);
        if (process.env.PVCTRL_FUZZ_DEBUG && Date.now() - started > 2_000) t.comment(`slow: ${JSON.stringify({ ...item, text: item.text.slice(0, 200) })}`);
        return answer;
      }),
    );
    slice.forEach((item, offset) => {
      requests += item.good + (item.bad === undefined ? 0 : 1);
      const lines = statusLines(answers[offset] as string);
      const goodAnswered = lines.slice(0, item.good).every((line) => line === 'HTTP/1.1 200 OK') && lines.length >= item.good;
      const badAnswered = item.bad === undefined || lines.length === item.good + 1;
      if ((!goodAnswered || !badAnswered) && failures++ < 5) {
        t.fail(`connection ${index + offset}: ${item.good} good requests then ${JSON.stringify(item.bad?.text.slice(0, 80))}: got ${JSON.stringify(lines)}`);
      }
    });
    peak = Math.max(peak, rssMiB(pid));
    if (daemon.process.exitCode !== null) break;
  }
  t.equal(failures, 0, `every request answered, good ones before the bad one, in order (${requests} requests)`);
  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
  t.equal((await rawRequest(daemon.socket, 'GET', '/steps')).status, 200, 'GET /steps keeps answering');
  t.ok(requests >= 2_000, `at least 2,000 requests (${requests})`);
  t.ok(peak - idle < 256, `RSS bounded (idle ${idle.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB)`);
  t.comment(`fuzz: ${requests} requests on ${cases.length} connections, RSS idle ${idle.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB`);
});
