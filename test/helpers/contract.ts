/**
 * The API contract as tests see it: an opt-in recorder of the daemon's answers (on when the test
 * runner sets PVCTRL_CONTRACT_DIR; raw-http.ts and the plan's proxy call it), and the check that
 * validates recorded answers against the OpenAPI document with ajv and lists the documented
 * (operation, status) pairs no test produced (test/contract/responses.check.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Exchange } from './contract-recorder.ts';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { DEFAULT_RESPONSE_STATUSES, generateOpenApi, responseSchemaRef, templatePath } from '../../src/api/openapi.ts';
import { ROUTES, buildRouter } from '../../src/api/routes.ts';
import type { Method } from '../../src/server/types.ts';

export { CONTRACT_DIR_ENV, CONTRACT_SOURCE_ENV } from './contract-recorder.ts';

export function readExchanges(dir: string): Exchange[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Exchange),
    );
}

type DocumentedOperations = Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;

export interface ContractReport {
  checked: number;
  /** Exchanges for no documented operation (unknown paths, wrong methods, garbage): not validated. */
  unrouted: number;
  problems: string[];
  /** `METHOD /templated/path STATUS` of every documented status no exchange produced. */
  uncovered: string[];
}

const mediaType = (contentType: string): string => (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
const HOST = { kind: 'host', name: '_pv_', privileged: true, pid: 1 } as const;

/** Validate every exchange against the document generated from the route table. */
export function checkContract(exchanges: readonly Exchange[]): ContractReport {
  const document = generateOpenApi(ROUTES);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // The whole document as one schema resource, so `#/components/schemas/...` refs resolve.
  ajv.addSchema({ ...document, $id: 'pvctrl-openapi' }, undefined, undefined, false);
  const router = buildRouter();
  const paths = document.paths as unknown as DocumentedOperations;
  const covered = new Set<string>();
  const problems: string[] = [];
  let unrouted = 0;
  for (const exchange of exchanges) {
    const rawPath = exchange.target.split('?', 1)[0] ?? '';
    let decoded = rawPath;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      // keep it raw: the daemon does the same with a malformed escape
    }
    const match = router.match(exchange.method, decoded, rawPath, () => ({ ok: true, caller: HOST }));
    if (match.kind !== 'dispatch') {
      unrouted++;
      continue;
    }
    const route = ROUTES.find((candidate) => candidate.path === match.route.path && candidate.methods.includes(exchange.method as Method));
    if (route === undefined) {
      unrouted++;
      continue;
    }
    const templated = templatePath(route.path, route.doc.params);
    const method = exchange.method.toLowerCase();
    const operation = paths[templated]?.[method];
    const where = `${exchange.method} ${exchange.target} → ${exchange.status} (${exchange.source})`;
    if (operation === undefined) {
      problems.push(`${where}: no operation ${method} ${templated} in the document`);
      continue;
    }
    const documented = operation.responses[String(exchange.status)] !== undefined;
    if (!documented && !(DEFAULT_RESPONSE_STATUSES as readonly number[]).includes(exchange.status)) {
      problems.push(`${where}: status not documented for ${exchange.method} ${templated}`);
      continue;
    }
    const key = documented ? String(exchange.status) : 'default';
    if (documented) covered.add(`${exchange.method} ${templated} ${exchange.status}`);
    const content = operation.responses[key]?.content;
    if (content === undefined) {
      if (exchange.bodyBytes !== 0) problems.push(`${where}: documented without a body, got ${exchange.bodyBytes} bytes`);
      continue;
    }
    const type = Object.keys(content).find((candidate) => candidate === exchange.contentType || mediaType(candidate) === mediaType(exchange.contentType));
    if (type === undefined) {
      problems.push(`${where}: content type "${exchange.contentType}" not among ${Object.keys(content).join(', ')}`);
      continue;
    }
    if (mediaType(type) !== 'application/json' || exchange.body === undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(exchange.body);
    } catch {
      problems.push(`${where}: body is not JSON: ${exchange.body.slice(0, 200)}`);
      continue;
    }
    const ref = `pvctrl-openapi${responseSchemaRef(templated, exchange.method as Method, documented ? exchange.status : 'default', type)}`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    if (!validate(value)) {
      problems.push(`${where}: body does not match the schema: ${ajv.errorsText(validate.errors)}; body ${exchange.body.slice(0, 300)}`);
    }
  }
  const uncovered: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const status of Object.keys(operation.responses)) {
        if (status === 'default') continue;
        const pair = `${method.toUpperCase()} ${path} ${status}`;
        if (!covered.has(pair)) uncovered.push(pair);
      }
    }
  }
  return { checked: exchanges.length - unrouted, unrouted, problems, uncovered };
}
