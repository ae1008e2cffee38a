/**
 * Bun's floor for bench/footprint.ts: a bare `node:http` server on a Unix socket (node:net
 * underneath, as pv-ctrl's listener), compiled like pv-ctrl. Answers every request with `[]`.
 * Usage: bare-server <socket>
 */
import { createServer } from 'node:http';

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error('usage: bare-server <socket>');
const server = createServer((_request, response) => {
  response.setHeader('Content-Type', 'application/json');
  response.end('[]');
});
server.listen(socketPath);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
