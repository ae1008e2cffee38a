/**
 * The OpenAPI document (src/api/openapi.ts): every route is documented, the committed
 * docs/openapi.json is what the generator makes from the route table, and an independent
 * validator (@apidevtools/swagger-parser) accepts it as OpenAPI 3.1.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { ROUTES, buildRouter } from '../../src/api/routes.ts';
import { callersOf, generateOpenApi, operationId, renderOpenApi, templatePath } from '../../src/api/openapi.ts';
import type { RouteDoc } from '../../src/api/route-docs.ts';

const COMMITTED = join(import.meta.dir, '..', '..', 'docs', 'openapi.json');

t.test('every route the router serves carries a doc with a summary, its path parameters and responses', async (t) => {
  const served = buildRouter().list();
  t.equal(served.length, ROUTES.length, 'the router serves exactly the documented table');
  for (const route of served) {
    const label = `${route.methods.join(',')} ${route.path}`;
    const documented = ROUTES.find((candidate) => candidate.path === route.path && candidate.methods.join() === route.methods.join());
    const doc: RouteDoc | undefined = documented?.doc;
    if (doc === undefined) {
      t.fail(`${label} has no doc (add one in src/api/routes.ts)`);
      continue;
    }
    t.ok(doc.summary.length > 0, `${label}: summary`);
    t.equal(doc.params?.length ?? 0, route.path.split('{}').length - 1, `${label}: one parameter per {} segment`);
    t.ok(Object.keys(doc.responses).some((status) => Number(status) >= 200 && Number(status) < 300), `${label}: a success response`);
  }
});

t.test('the generator: named path parameters, callers, shared error body, unique operation ids', async (t) => {
  t.equal(templatePath('/steps/locals/{}/progress', [{ name: 'name', description: '' }]), '/steps/locals/{name}/progress');
  t.throws(() => templatePath('/objects/{}', []), /needs a documented parameter/);
  t.equal(operationId('GET', '/steps/{rev}/progress'), 'getStepsByRevProgress');
  t.same(callersOf(true), ['host', 'mgmt-container']);
  t.same(callersOf(false), ['host', 'mgmt-container', 'container']);
  const document = generateOpenApi(ROUTES) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
  t.equal(document.openapi, '3.1.0');
  const objects = document.paths['/objects/{sha}'];
  t.same(Object.keys(objects ?? {}).sort(), ['get', 'put'], 'GET and PUT of /objects/{} share one path item');
  const put = objects?.put as { parameters: { name: string; in: string; required: boolean }[]; responses: Record<string, unknown>; 'x-pvctrl-callers': string[] };
  t.match(put.parameters, [{ name: 'sha', in: 'path', required: true }]);
  t.same(put['x-pvctrl-callers'], ['host', 'mgmt-container']);
  t.match(put.responses['403'], { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }, 'mgmt routes document the 403');
  t.match(put.responses.default, { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  t.same((document.paths['/signal']?.post as { 'x-pvctrl-callers': string[] })['x-pvctrl-callers'], ['host', 'mgmt-container', 'container']);
  const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => (operation as { operationId: string }).operationId));
  t.equal(new Set(ids).size, ids.length, 'operation ids are unique');
});

t.test('docs/openapi.json is the generator\'s output', async (t) => {
  let committed = '';
  try {
    committed = readFileSync(COMMITTED, 'utf8');
  } catch {
    // reported below as stale
  }
  t.ok(committed === renderOpenApi(ROUTES), 'docs/openapi.json is stale: regenerate it with `npm run gen:openapi` (bun scripts/gen-openapi.ts) and commit it');
});

t.test('swagger-parser accepts docs/openapi.json as OpenAPI 3.1', async (t) => {
  const document = JSON.parse(readFileSync(COMMITTED, 'utf8')) as Parameters<typeof SwaggerParser.validate>[0];
  const validated = (await SwaggerParser.validate(document)) as { openapi?: string };
  t.equal(validated.openapi, '3.1.0');
  const broken = JSON.parse(readFileSync(COMMITTED, 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>> };
  delete broken.paths['/containers']?.get?.responses['200']?.description;
  await t.rejects(SwaggerParser.validate(broken as unknown as Parameters<typeof SwaggerParser.validate>[0]), /description/, 'and it does reject a broken document');
});
