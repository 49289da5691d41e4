/** @module The OpenAPI document at /docs/json and Swagger UI at /docs, its assets served locally (no CDN needed). */
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import { join } from 'node:path'
import pkg from '../package.json'

const ASSETS = join(import.meta.dir, '..', 'node_modules', 'swagger-ui-dist')
const FILES = new Set(['swagger-ui-bundle.js', 'swagger-ui.css'])

export function docsPlugin() {
  return new Elysia({ name: 'docs' })
    .get('/docs/assets/:file', ({ params, set }) => {
      if (!FILES.has(params.file)) {
        set.status = 404
        return 'not found'
      }
      return Bun.file(join(ASSETS, params.file))
    }, { detail: { hide: true } })
    .use(
      openapi({
        path: '/docs',
        specPath: '/docs/json',
        provider: 'swagger-ui',
        swagger: { cdn: '/docs/assets/swagger-ui-bundle.js', theme: '/docs/assets/swagger-ui.css', autoDarkMode: false },
        exclude: { paths: ['/graphql', '/healthz', '/readyz', '/docs/assets/:file'] },
        documentation: {
          info: {
            title: 'Viapi',
            version: pkg.version,
            description:
              'OpenAI-compatible AI gateway for firms that resell AI. Client calls authenticate with a vi_live_ key (X-Viapi-Key or Authorization: Bearer); admin calls with a dashboard JWT or a vi_pat_ token. The admin API is GraphQL at /graphql.',
          },
          tags: [
            { name: 'Proxy', description: 'OpenAI-compatible endpoints for client apps' },
            { name: 'Client', description: "A client's own usage" },
            { name: 'Admin', description: 'Firm admin endpoints' },
            { name: 'Auth', description: 'Personal access tokens' },
          ],
          components: {
            securitySchemes: {
              bearerAuth: { type: 'http', scheme: 'bearer', description: 'vi_live_ key (client endpoints), or dashboard JWT / vi_pat_ token (admin endpoints)' },
              viapiKey: { type: 'apiKey', in: 'header', name: 'X-Viapi-Key' },
            },
          },
        },
      }),
    )
}
