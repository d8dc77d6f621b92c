import { identitySchema } from '../answer-schemas.js';
import type { RouteTable } from '../route-table.js';

/** `GET /v1/whoami`: the token's name and scopes, so a client (the console) shows only what it may do. */
export function whoamiRoutes(routes: RouteTable): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/whoami',
      tag: 'operations',
      summary: "The token's name and scopes: what a client may offer its user",
      scope: 'read',
      status: 200,
      response: identitySchema,
    },
    (_input, ctx) => ({ name: ctx.state.tokenName ?? null, scopes: ctx.state.scopes ?? [] }),
  );
}
