export { createHttpApp, type HttpAppOptions } from './app.js';
export { createBrainServerApp, type BrainServerAppOptions } from './brain-server-app.js';
export { brainRoutes } from './routes/brain.js';
export { toHttpError, errorBody, httpStatusOf } from './http-errors.js';
export { bearerToken } from './bearer-token.js';
export type { Env } from './openapi.js';
