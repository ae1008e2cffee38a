/**
 * `Transfer-Encoding: identity` is what pvcontrol (and curl users copying it) send with every
 * object upload, next to a Content-Length. The reference accepts it; Bun's parser either rejects
 * it or waits for the connection to close. We drop that one header line before the parser sees
 * it, tracking request framing so that body bytes are never touched.
 */
import type { Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
/** Heads larger than this are left to the parser (which will refuse them itself). */
const MAX_HEAD = 64 * 1024;

export class IdentityEncodingFilter {
  private head: Buffer | undefined;
  private bodyRemaining = 0;
  /** Once framing cannot be followed (chunked bodies, oversize heads), stop touching the stream. */
  private passthrough = false;

  /** Transform one chunk of the byte stream into what the parser should see. */
  filter(chunk: Buffer): Buffer {
    if (this.passthrough) return chunk;
    const out: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0 && !this.passthrough) {
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, rest.length);
        out.push(rest.subarray(0, take));
        this.bodyRemaining -= take;
        rest = rest.subarray(take);
        continue;
      }
      const pending = this.head === undefined ? rest : Buffer.concat([this.head, rest]);
      const end = pending.indexOf(HEAD_END, leadingBlankLines(pending));
      if (end < 0) {
        if (pending.length > MAX_HEAD) {
          this.passthrough = true;
          this.head = undefined;
          out.push(pending);
        } else {
          this.head = pending;
        }
        return Buffer.concat(out);
      }
      this.head = undefined;
      const headText = pending.subarray(0, end + HEAD_END.length).toString('latin1');
      const { text, bodyLength, chunked } = rewriteHead(headText);
      out.push(Buffer.from(text, 'latin1'));
      if (chunked) this.passthrough = true;
      this.bodyRemaining = bodyLength;
      rest = pending.subarray(end + HEAD_END.length);
    }
    if (rest.length > 0) out.push(rest);
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

function leadingBlankLines(buffer: Buffer): number {
  let index = 0;
  while (index + 1 < buffer.length && buffer[index] === 0x0d && buffer[index + 1] === 0x0a) index += 2;
  return index;
}

export function rewriteHead(head: string): { text: string; bodyLength: number; chunked: boolean } {
  const lines = head.split('\r\n');
  let bodyLength = 0;
  let chunked = false;
  const kept = lines.filter((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return true;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'transfer-encoding') {
      if (value === 'identity') return false;
      if (value.includes('chunked')) chunked = true;
    }
    if (name === 'content-length' && /^\d+$/.test(value)) bodyLength = Number(value);
    return true;
  });
  return { text: kept.join('\r\n'), bodyLength: chunked ? 0 : bodyLength, chunked };
}

/** Route a socket's incoming bytes through the filter before any 'data' listener sees them. */
export function installIdentityEncodingFilter(socket: Socket): void {
  const filter = new IdentityEncodingFilter();
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'data' && Buffer.isBuffer(args[0])) {
      const filtered = filter.filter(args[0]);
      if (filtered.length === 0) return true;
      return emit('data', filtered);
    }
    return emit(event, ...args);
  }) as typeof socket.emit;
}
