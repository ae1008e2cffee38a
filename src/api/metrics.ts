/** `GET /metrics`: the Prometheus text exposition (docs/operations.md "Metrics"). */
import { EXPOSITION_CONTENT_TYPE } from '../metrics/registry.ts';
import type { Handler } from './handler.ts';

export const metrics: Handler = async (_request, services) => ({ type: 'text', contentType: EXPOSITION_CONTENT_TYPE, text: services.metrics.exposition() });
