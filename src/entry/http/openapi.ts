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

/** The error responses a route documents, with what its 404 means. */
export function errorResponses(notFound = 'Not found (also for other tenants\u2019 ids)') {
  return {
    400: json(ErrorResponse, 'Bad request'),
    401: json(ErrorResponse, 'Missing or invalid API key'),
    404: json(ErrorResponse, notFound),
  };
}

/** The response of a route that needs the brain when it is down. */
export const brainUnavailable = { 503: json(ErrorResponse, 'Brain unavailable') };

/** Every `/v1/*` route takes a bearer token. */
export const security = [{ bearerAuth: [] }];
