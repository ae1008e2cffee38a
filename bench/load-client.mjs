// Keep-alive GET load over a Unix socket with Node's http client (the same client the reference
// figures were taken with). Prints one JSON line: {rps, p50_ms, p99_ms, max_ms, errors, codes}.
// Usage: node bench/load-client.mjs <socket> <path> <concurrency> <total> [durationMs]
// (with durationMs: stop issuing after that long, or after total, whichever comes first)
import http from 'node:http';

const [socketPath, path, concurrencyText, totalText, durationText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const total = Number(totalText);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = [];
const codes = {};
let errors = 0;
let issued = 0;

function one() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request({ socketPath, path, agent, headers: { Host: 'localhost' } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        codes[res.statusCode] = (codes[res.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

const stopAt = durationText === undefined ? Infinity : Date.now() + Number(durationText);

async function worker() {
  while (issued < total && Date.now() < stopAt) {
    issued++;
    await one();
  }
}

const begin = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
latencies.sort((a, b) => a - b);
const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
agent.destroy();
const usage = process.cpuUsage();
console.log(JSON.stringify({ concurrency, total: issued, errors, codes, seconds: +seconds.toFixed(3), rps: +(issued / seconds).toFixed(1), cpu_s: +((usage.user + usage.system) / 1e6).toFixed(2), p50_ms: +pick(0.5).toFixed(2), p99_ms: +pick(0.99).toFixed(2), max_ms: +pick(1).toFixed(2) }));
