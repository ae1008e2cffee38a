/** The server's handler type with the services every API handler receives. */
import type { Handler as ServerHandler } from '../server/router.ts';
import type { Services } from '../services.ts';

export type Handler = ServerHandler<Services>;
