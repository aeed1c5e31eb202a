/**
 * `POST /internal/schema-usage`: the gateway's field-usage flush (gateway/plugins/schemaUsageFlusher.ts),
 * signed for accounts with lib/signing.ts and verified by lib/http/routes.ts before this runs. Every
 * field is bounded again here: a signed caller is trusted to be the gateway, not to be bug-free.
 */
import { z } from 'zod';
import { badInput } from '../../lib/errors.js';
import { sendJson } from '../../lib/http/respond.js';
import type { Route } from '../../lib/http/routes.js';
import type { SchemaUsageService } from './schemaUsage.js';

const name = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;
const coordinate = z.string().max(302).regex(/^[_A-Za-z][_0-9A-Za-z]{0,99}(\.[_A-Za-z][_0-9A-Za-z]{0,99}){1,2}$/);
const hour = z.number().int().nonnegative().refine((h) => h % 3_600_000 === 0, 'an hour start');
const count = z.number().int().positive().max(1_000_000_000);
const clientLabel = z.string().max(200);

export const usagePayload = z
  .object({
    rows: z
      .array(
        z.object({
          hour,
          coordinate,
          clientName: z.string().regex(/^[A-Za-z0-9._()-]{1,64}$/),
          clientVersion: z.string().regex(/^[A-Za-z0-9._+-]{0,32}$/),
          partnerKeyId: z.string().max(100).nullable(),
          requests: count,
        }),
      )
      .max(2_000),
    operations: z
      .array(
        z.object({
          signature: z.string().regex(/^[0-9a-f]{32}$/),
          name: z.string().regex(name).nullable(),
          body: z.string().max(20_000).nullable(),
          coordinates: z.array(coordinate).max(2_000),
          clients: z.array(clientLabel).max(20),
          requests: count,
          hour,
        }),
      )
      .max(100),
    schema: z
      .object({
        fields: z.array(coordinate).max(50_000),
        deprecated: z.array(z.object({ coordinate, reason: z.string().max(1_000) })).max(10_000),
      })
      .optional(),
  })
  .strict();

export function schemaUsageRoutes(usage: SchemaUsageService): Route[] {
  return [
    {
      method: 'POST',
      path: '/internal/schema-usage',
      internal: true,
      maxBodyBytes: 4 * 1024 * 1024,
      async handle({ res, body }) {
        let raw: unknown;
        try {
          raw = JSON.parse((await body()).toString('utf8'));
        } catch {
          throw badInput('Expected a JSON usage payload.');
        }
        const parsed = usagePayload.safeParse(raw);
        if (!parsed.success) throw badInput('Expected { rows, operations, schema? } within their bounds.');
        await usage.record(parsed.data);
        sendJson(res, 200, { ok: true });
      },
    },
  ];
}
