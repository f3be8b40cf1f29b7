// The typed REST client: openapi-fetch over the types openapi-typescript generates from
// api-spec/openapi.json (src/api/schema.d.ts; `npm run generate:api` remakes it).
import createClient, { type Client } from 'openapi-fetch'
import type { components, paths } from './schema'

export type { components, paths }
export type OutreachClient = Client<paths>

// `getToken` is asked before every request; without a token (logging in) no header is sent.
export function createOutreachClient(
  baseUrl: string,
  getToken: () => string | undefined | Promise<string | undefined>,
): OutreachClient {
  const client = createClient<paths>({ baseUrl })
  client.use({
    async onRequest({ request }) {
      const token = await getToken()
      if (token) request.headers.set('Authorization', `Bearer ${token}`)
      return request
    },
  })
  return client
}
