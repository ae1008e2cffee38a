declare module 'tap-parser' {
  import { Writable } from 'node:stream';
  export default class TapParser extends Writable {
    constructor(options?: Record<string, unknown>);
  }
}
