/**
 * The metrics registry's text format (Prometheus exposition 0.0.4): escaping, histogram buckets,
 * and pv-ctrl's counters fed with fake observations. The real daemon's output is checked with
 * promtool in test/integration/metrics.test.ts.
 */
import t from 'tap';
import { escapeHelp, escapeLabelValue, formatValue, Registry } from '../../src/metrics/registry.ts';
import { metricsEnabled, PvCtrlMetrics, type MetricSources } from '../../src/metrics/pvctrl.ts';
import { auditEntry } from '../../src/metrics/request-observer.ts';
import type { FinishedRequest } from '../../src/server/types.ts';

t.test('label values escape backslash, double quote and line feed; HELP escapes backslash and line feed', async (t) => {
  t.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  t.equal(escapeLabelValue('plain /objects/{}'), 'plain /objects/{}');
  t.equal(escapeHelp('x\\y\nz "q"'), 'x\\\\y\\nz "q"');
  const registry = new Registry();
  registry.counter('odd_total', 'Help with \\ and\nnewline.', ['name']).labels('quote " back \\ nl \n end').inc();
  t.equal(
    registry.render(),
    ['# HELP odd_total Help with \\\\ and\\nnewline.', '# TYPE odd_total counter', 'odd_total{name="quote \\" back \\\\ nl \\n end"} 1', ''].join('\n'),
  );
});

t.test('special values are spelled +Inf, -Inf and NaN', async (t) => {
  t.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf');
  t.equal(formatValue(Number.NEGATIVE_INFINITY), '-Inf');
  t.equal(formatValue(Number.NaN), 'NaN');
  t.equal(formatValue(0.25), '0.25');
  t.equal(formatValue(3), '3');
});

t.test('histogram buckets are cumulative, end with +Inf = count, then _sum and _count', async (t) => {
  const registry = new Registry();
  const child = registry.histogram('demo_seconds', 'Demo.', ['route'], [0.1, 1, 10]).labels('/x');
  for (const value of [0.05, 0.1, 0.5, 2, 20, 20]) child.observe(value);
  t.equal(
    registry.render(),
    [
      '# HELP demo_seconds Demo.',
      '# TYPE demo_seconds histogram',
      'demo_seconds_bucket{route="/x",le="0.1"} 2',
      'demo_seconds_bucket{route="/x",le="1"} 3',
      'demo_seconds_bucket{route="/x",le="10"} 4',
      'demo_seconds_bucket{route="/x",le="+Inf"} 6',
      'demo_seconds_sum{route="/x"} 42.65',
      'demo_seconds_count{route="/x"} 6',
      '',
    ].join('\n'),
    'a value equal to a bound counts in that bucket (le = less or equal)',
  );
});

t.test('a labelled child is resolved once and kept; counters never go down', async (t) => {
  const registry = new Registry();
  const counter = registry.counter('c_total', 'C.', ['a']);
  t.equal(counter.labels('x'), counter.labels('x'), 'same child for the same values');
  counter.labels('x').inc(2);
  counter.labels('x').inc(-5);
  counter.labels('x').inc(Number.NaN);
  t.match(registry.render(), /^c_total\{a="x"\} 2$/m);
  t.throws(() => counter.labels('x', 'y'), /takes 1 label values/);
});

t.test('invalid names, a reserved label, unordered buckets and duplicates are refused', async (t) => {
  const registry = new Registry();
  t.throws(() => registry.counter('bad-name', 'x'));
  t.throws(() => registry.counter('ok_total', 'x', ['le']));
  t.throws(() => registry.counter('ok_total', 'x', ['__reserved']));
  t.throws(() => registry.histogram('h', 'x', [], [1, 1]));
  registry.counter('dup_total', 'x');
  t.throws(() => registry.counter('dup_total', 'x'), /duplicate/);
});

t.test('collected gauges are read at every scrape', async (t) => {
  const registry = new Registry();
  let value = 1;
  registry.collect('g', 'G.', 'gauge', ['k'], () => [{ labels: ['v'], value }]);
  t.match(registry.render(), /^g\{k="v"\} 1$/m);
  value = 7;
  t.match(registry.render(), /^g\{k="v"\} 7$/m);
});

function sources(overrides: Partial<MetricSources> = {}): MetricSources {
  return {
    runningRevision: () => 'locals/a"b',
    updateProgress: () => ({ revision: 'locals/next', status: 'INPROGRESS', percent: 50 }),
    containers: () => [
      { name: 'one', status: 'READY' },
      { name: 'two', status: 'STOPPED' },
    ],
    objects: () => ({ count: 3, bytes: 300 }),
    daemons: () => [{ name: 'pv-xconnect', running: true }],
    openConnections: () => 4,
    eventSubscribers: () => 2,
    ...overrides,
  };
}

function request(route: string, method: string, status: number, seconds: number): FinishedRequest {
  return { route, method, status, seconds, target: route.replace('{}', 'key'), caller: { kind: 'host', name: '_pv_', privileged: true, pid: 7 }, pid: 7 };
}

t.test('pv-ctrl metrics: requests by route pattern, status and method; owners read at scrape time', async (t) => {
  const metrics = new PvCtrlMetrics(sources());
  metrics.requestFinished(request('/user-meta/{}', 'PUT', 200, 0.002));
  metrics.requestFinished(request('/user-meta/{}', 'PUT', 200, 0.003));
  metrics.requestFinished(request('/user-meta/{}', 'PUT', 507, 0.004));
  metrics.requestFinished(request('/containers', 'GET', 200, 0.0001));
  metrics.objectIngested('native', 1000, 0.5);
  metrics.objectIngested('js', 10, 0.01);
  const text = metrics.exposition();
  t.match(text, /^pvctrl_http_requests_total\{route="\/user-meta\/\{\}",method="PUT",status="200"\} 2$/m);
  t.match(text, /^pvctrl_http_requests_total\{route="\/user-meta\/\{\}",method="PUT",status="507"\} 1$/m);
  t.match(text, /^pvctrl_http_request_duration_seconds_count\{route="\/user-meta\/\{\}",method="PUT"\} 3$/m);
  t.match(text, /^pvctrl_http_request_duration_seconds_bucket\{route="\/containers",method="GET",le="0.0005"\} 1$/m);
  t.match(text, /^pvctrl_object_ingest_bytes_total\{path="native"\} 1000$/m);
  t.match(text, /^pvctrl_object_ingest_bytes_total\{path="js"\} 10$/m);
  t.match(text, /^pvctrl_revision_info\{revision="locals\/a\\"b"\} 1$/m, 'label values from owners are escaped');
  t.match(text, /^pvctrl_update_progress_percent\{revision="locals\/next"\} 50$/m);
  t.match(text, /^pvctrl_update_status\{revision="locals\/next",status="INPROGRESS"\} 1$/m);
  t.match(text, /^pvctrl_container_status\{container="one",status="READY"\} 1$/m);
  t.match(text, /^pvctrl_container_status\{container="one",status="STOPPED"\} 0$/m);
  t.equal(text.match(/^pvctrl_container_status\{container="two",status="[A-Z]+"\} 1$/gm)?.length, 1, 'exactly one current status per container');
  t.match(text, /^pvctrl_objects 3$/m);
  t.match(text, /^pvctrl_objects_size_bytes 300$/m);
  t.match(text, /^pvctrl_daemon_up\{daemon="pv-xconnect"\} 1$/m);
  t.match(text, /^pvctrl_open_connections 4$/m);
  t.match(text, /^pvctrl_event_subscribers 2$/m);
  t.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
  t.match(text, /^process_cpu_seconds_total [0-9.e-]+$/m);
});

t.test('restarts count the starts after the first one, per container and per helper', async (t) => {
  const metrics = new PvCtrlMetrics(sources());
  for (const to of ['MOUNTED', 'STARTING', 'STARTED', 'READY', 'STOPPED', 'RECOVERING', 'MOUNTED', 'STARTING', 'STARTED', 'STOPPING', 'STOPPED', 'MOUNTED', 'STARTING']) {
    metrics.containerStatusChanged('one', to);
  }
  metrics.containerStatusChanged('two', 'STARTING');
  metrics.daemonSpawned('pv-xconnect');
  metrics.daemonSpawned('pv-xconnect');
  const text = metrics.exposition();
  t.match(text, /^pvctrl_container_restarts_total\{container="one"\} 2$/m);
  t.notMatch(text, /pvctrl_container_restarts_total\{container="two"\}/, 'a first start is no restart');
  t.match(text, /^pvctrl_daemon_restarts_total\{daemon="pv-xconnect"\} 1$/m);
});

t.test('PV_METRICS=0 disables: nothing is counted and the exposition is a 404', async (t) => {
  t.equal(metricsEnabled({}), true);
  t.equal(metricsEnabled({ PV_METRICS: '1' }), true);
  t.equal(metricsEnabled({ PV_METRICS: '0' }), false);
  t.equal(metricsEnabled({ PV_METRICS: 'off' }), false);
  const metrics = new PvCtrlMetrics(sources(), false);
  metrics.requestFinished(request('/containers', 'GET', 200, 0.001));
  t.throws(() => metrics.exposition(), { kind: 'not-found' });
});

t.test('the audit entry names caller, method, target, route, status and duration', async (t) => {
  const entry = auditEntry(request('/user-meta/{}', 'PUT', 507, 0.01234));
  t.equal(entry.message, '_pv_(7) PUT /user-meta/key route=/user-meta/{} status=507 duration_ms=12.3');
  t.same(entry.context, {
    component: 'audit',
    caller: { container: '_pv_', pid: 7 },
    fields: { method: 'PUT', route: '/user-meta/{}', target: '/user-meta/key', status: 507, duration_ms: 12.3 },
  });
  t.equal(auditEntry(request('/containers', 'GET', 200, 0.001)).context.component, 'request', 'reads are not audit lines');
  t.equal(auditEntry({ ...request('/x', 'POST', 400, 0), caller: undefined, pid: 99 }).message.startsWith('?(99) POST'), true, 'an unidentified caller still has its pid');
});
