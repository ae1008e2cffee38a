/** Small TCP probes for tests of services the daemon starts (the debug SSH server). */
import { createConnection } from 'node:net';

/** First bytes a TCP server on 127.0.0.1 sends, or `error: …` when nothing (or nothing useful) answers. */
export function tcpBanner(port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('data', (chunk) => {
      resolve(chunk.toString());
      socket.destroy();
    });
    socket.once('error', (error) => resolve(`error: ${error.message}`));
    // A connection that neither greets nor fails must not hang a test.
    setTimeout(() => {
      resolve('error: no banner');
      socket.destroy();
    }, timeoutMs).unref();
  });
}
