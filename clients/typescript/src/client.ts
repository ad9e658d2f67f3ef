/**
 * A typed client of the eBay Sniper API: paths, parameters, bodies and answers come
 * from `schema.d.ts`, generated from `docs/openapi.json`, so a change of the API's
 * contract is a type error in the frontend rather than a surprise at run time.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type { components, operations, paths } from "./schema";

/** The one body every error answers, whatever the route or status. */
export type ApiError = components["schemas"]["ErrorBody"];

/** The signed-in user's Cognito ID token, or nothing when signed out. */
export type TokenGetter = () =>
  | string
  | null
  | undefined
  | Promise<string | null | undefined>;

export type SniperClient = Client<paths>;

/**
 * A client for the API at `baseUrl` (the local stack: `http://localhost:3000`).
 * `getToken` is asked before every request, so a refreshed token is used at once.
 */
export function createSniperClient(
  baseUrl: string,
  getToken: TokenGetter,
): SniperClient {
  const client = createClient<paths>({ baseUrl });
  client.use(authorization(getToken));
  return client;
}

/** Adds `Authorization: Bearer <token>` when there is a token (public routes need none). */
export function authorization(getToken: TokenGetter): Middleware {
  return {
    async onRequest({ request }) {
      const token = await getToken();
      if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}
