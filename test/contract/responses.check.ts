/**
 * The contract check, run by scripts/run-tests.ts after every test file: each answer the tests
 * recorded (test/helpers/contract-recorder.ts: raw HTTP requests, and the acceptance plan's
 * curl and pvcontrol calls through a recording proxy) must match the OpenAPI document
 * generated from the route table (ajv), and — on a run of the whole suite — every documented
 * (operation, status) pair must have been produced by at least one test.
 */
import t from 'tap';
import { CONTRACT_DIR_ENV, checkContract, readExchanges } from '../helpers/contract.ts';

const dir = process.env[CONTRACT_DIR_ENV] ?? '';
const coverage = process.env.PVCTRL_CONTRACT_COVERAGE === '1';

t.test('recorded answers match the OpenAPI document', async (t) => {
  t.not(dir, '', `${CONTRACT_DIR_ENV} is set (run through scripts/run-tests.ts)`);
  if (dir === '') return;
  const report = checkContract(readExchanges(dir));
  t.comment(`${report.checked} answers checked, ${report.unrouted} for no documented operation`);
  t.same(report.problems, [], 'every answer has a documented status, content type and body');
  if (coverage) {
    t.same(report.uncovered, [], 'every documented (operation, status) was produced by a test');
  } else if (report.uncovered.length > 0) {
    t.comment(`not a whole-suite run: ${report.uncovered.length} documented statuses not produced here`);
  }
});
