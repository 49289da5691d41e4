/** @module The one error hierarchy: every failure a caller can see is a GatewayError rendered as OpenAI's error JSON. */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_exceeded'
  | 'insufficient_quota'
  | 'api_error'
  | 'service_unavailable'

export interface ErrorBody {
  error: { message: string; type: ErrorType; code: string | null; param: string | null }
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = new.target.name
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } }
  }
}

export class InvalidRequest extends GatewayError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(400, 'invalid_request_error', code, message, param)
  }
}

export class PayloadTooLarge extends GatewayError {
  constructor(limit: number) {
    super(413, 'invalid_request_error', 'request_too_large', `Request body exceeds the limit of ${limit} bytes.`)
  }
}

export class InvalidApiKey extends GatewayError {
  constructor(message = 'Incorrect API key provided. Pass a vi_live_ key as "Authorization: Bearer <key>" or "X-Viapi-Key: <key>".') {
    super(401, 'authentication_error', 'invalid_api_key', message)
  }
}

export class KeyRevoked extends GatewayError {
  constructor() {
    super(401, 'authentication_error', 'key_revoked', 'This API key has been revoked.')
  }
}

export class KeyExpired extends GatewayError {
  constructor() {
    super(401, 'authentication_error', 'key_expired', 'This API key has expired.')
  }
}

export class Forbidden extends GatewayError {
  constructor(message: string, code: string | null = 'forbidden') {
    super(403, 'permission_error', code, message)
  }
}

export class NotFound extends GatewayError {
  constructor(message: string, code: string | null = 'not_found') {
    super(404, 'not_found_error', code, message)
  }
}

export class ModelNotFound extends GatewayError {
  constructor(model: string) {
    super(404, 'invalid_request_error', 'model_not_found', `The model "${model}" does not exist or is not available to this key.`, 'model')
  }
}

export class RouteNotFound extends GatewayError {
  constructor(path: string) {
    super(404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${path}.`)
  }
}

/** An upstream 4xx passed through with its own status and message. */
export class UpstreamRejected extends GatewayError {
  constructor(status: number, message: string, type: ErrorType, code: string | null, param: string | null) {
    super(status, type, code, message, param)
  }
}

export class BadGateway extends GatewayError {
  constructor(message: string, code = 'upstream_error') {
    super(502, 'api_error', code, message)
  }
}

export class GatewayTimeout extends GatewayError {
  constructor(message = 'The upstream provider did not answer in time.') {
    super(504, 'api_error', 'upstream_timeout', message)
  }
}

export class ServiceUnavailable extends GatewayError {
  constructor(message: string, code = 'service_unavailable') {
    super(503, 'service_unavailable', code, message)
  }
}

export class InternalError extends GatewayError {
  constructor(requestId: string) {
    super(500, 'api_error', 'internal_error', `The gateway failed to handle this request (request id ${requestId}).`)
  }
}

/** Renders an error as the JSON response every endpoint returns on failure. */
export function errorResponse(err: GatewayError, requestId: string): Response {
  return new Response(JSON.stringify(err.toBody()), {
    status: err.status,
    headers: { 'content-type': 'application/json', 'x-viapi-request-id': requestId, ...err.headers },
  })
}
