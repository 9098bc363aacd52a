import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Caller } from '../../app/context.js';
import { validationHook } from './http-errors.js';
import { ErrorResponse } from './schemas.js';

/** Variables the auth middleware sets before any `/v1/*` route runs. */
export type Env = { Variables: { auth: Caller } };

/** A new sub-app of routes with the API's validation hook. */
export function routes(): OpenAPIHono<Env> {
  return new OpenAPIHono<Env>({ defaultHook: validationHook as never });
}

/** A JSON response (or request body) of `schema` for a route definition. */
export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ content: { 'application/json': { schema } }, description });

/** A required JSON request body of `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true as const });

/** The error responses every `/v1/*` route documents, with what its 404 means. */
export function errorResponses(notFound = 'Not found (also for other tenants\u2019 ids)') {
  return {
    400: json(ErrorResponse, 'The request does not match this schema (also: NUL or unpaired surrogates in any string, JSON nested deeper than 32 levels)'),
    401: json(ErrorResponse, 'Missing or invalid API key'),
    404: json(ErrorResponse, notFound),
    503: json(ErrorResponse, 'The database (or another critical service) is unavailable'),
    507: json(ErrorResponse, 'The database\u2019s disk is full (STORAGE_FULL, with Retry-After): nothing was written; retry once space is freed'),
  };
}

/** Routes that take a body: the server's request size limit. */
export const writeErrors = { 413: json(ErrorResponse, 'The request body exceeds the size limit (1 MB)') };

/** Routes whose fields must also agree with each other or with the server's state. */
export const semanticErrors = {
  422: json(ErrorResponse, 'Well-formed but impossible: INVALID_COMBINATION (e.g. a tool listed twice, rlm_min_iterations above rlm_max_iterations, a learning bound above its maximum) or NO_MODEL_AVAILABLE'),
};

/** The response of a route that needs the brain when it is down. */
export const brainUnavailable = { 503: json(ErrorResponse, 'Brain unavailable') };

/** Every `/v1/*` route takes a bearer token. */
export const security = [{ bearerAuth: [] }];
