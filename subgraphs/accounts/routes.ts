/** Internal, signed HTTP endpoints the gateway calls (signed for accounts: lib/signing.ts). */
import { z } from 'zod';
import { sendJson } from '../../lib/http/respond.js';
import { jsonBody, type Route } from '../../lib/http/routes.js';
import type { AccountService } from './service.js';

const resolveBody = z.object({ token: z.string().max(500).optional(), apiKey: z.string().max(500).optional() }).strict();

export function internalRoutes(service: AccountService): Route[] {
  return [
    {
      method: 'POST',
      path: '/internal/auth/resolve',
      internal: true,
      maxBodyBytes: 4_096,
      async handle({ res, body }) {
        const resolved = await service.resolveCredential(await jsonBody(body, resolveBody, '{ token } or { apiKey }'));
        sendJson(res, 200, resolved ? { caller: resolved.caller, rateLimit: resolved.rateLimit } : { caller: null, error: 'UNAUTHENTICATED' });
      },
    },
    {
      method: 'GET',
      path: '/internal/trusted-documents',
      internal: true,
      async handle({ res }) {
        const docs = await service.listTrustedDocuments();
        sendJson(res, 200, { documents: docs.map((d) => ({ id: d._id, body: d.body, clientName: d.clientName })) });
      },
    },
  ];
}
