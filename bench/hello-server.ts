/** The baseline: a bare Bun.serve hello server on a Unix socket, answering like GET /containers. */
const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error('usage: bun bench/hello-server.ts <socket>');
Bun.serve({ unix: socketPath, fetch: () => new Response('[]', { headers: { 'Content-Type': 'application/json' } }) });
process.stdout.write('ready\n');
