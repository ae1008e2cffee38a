/**
 * Opt-in recorder of the daemon's answers for the contract check (test/helpers/contract.ts): on
 * when the test runner sets PVCTRL_CONTRACT_DIR. Kept free of heavy imports: every test that
 * speaks HTTP loads it.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTRACT_DIR_ENV = 'PVCTRL_CONTRACT_DIR';
/** The test file a recording came from (set per file by the runner; children inherit it). */
export const CONTRACT_SOURCE_ENV = 'PVCTRL_CONTRACT_SOURCE';
/** Bodies above this, or not text, are recorded by length only (objects, streams): only JSON is validated. */
const BODY_RECORD_LIMIT = 1024 * 1024;

export interface Exchange {
  source: string;
  method: string;
  target: string;
  status: number;
  contentType: string;
  body: string | undefined;
  bodyBytes: number;
}

export function recordingEnabled(): boolean {
  return (process.env[CONTRACT_DIR_ENV] ?? '') !== '';
}

/** Append one exchange to this process's file in the run's contract folder; a no-op when recording is off. */
export function recordExchange(exchange: Omit<Exchange, 'source' | 'bodyBytes' | 'body'> & { body: string | Buffer }): void {
  const dir = process.env[CONTRACT_DIR_ENV];
  if (dir === undefined || dir === '') return;
  const bytes = Buffer.byteLength(exchange.body);
  const record: Exchange = {
    ...exchange,
    source: process.env[CONTRACT_SOURCE_ENV] ?? 'unknown',
    body: bytes <= BODY_RECORD_LIMIT && /json|^text\//i.test(exchange.contentType) ? exchange.body.toString() : undefined,
    bodyBytes: bytes,
  };
  appendFileSync(join(dir, `exchanges-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
}
