import type { FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';

/** The methods a route of this service can have. */
const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const satisfies readonly FindMyWay.HTTPMethod[];
type Method = (typeof METHODS)[number];
const isMethod = (method: string): method is Method => METHODS.some((m) => m === method);

const noHandler = () => undefined;

/** The methods a path is answered to, sorted: none for a path no route has. */
export type RouteMethods = (path: string) => readonly Method[];

/**
 * Keeps, as routes are added, a router of its own that knows every route's path and method, so that
 * a request for a path the service has, with a method it does not take, can be told which ones it
 * takes (405 with Allow, RFC 9110 §15.5.6) rather than that nothing is there (404). Fastify's own
 * router answers only whether a method and a path match. Before the routes.
 */
export function trackRouteMethods(app: FastifyInstance, options: { readonly ignoreTrailingSlash: boolean }): RouteMethods {
  // A parameter as long as a request line can be (Node's 16 KiB of headers): a path whose parameter
  // is too long for Fastify's router (414) still has the routes it has, and a method none of them
  // takes is told which they take.
  const router = FindMyWay({ ignoreTrailingSlash: options.ignoreTrailingSlash, maxParamLength: 16_384 });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (isMethod(method) && !router.hasRoute(method, route.url)) router.on(method, route.url, noHandler);
    }
  });
  return (path) => METHODS.filter((method) => router.find(method, path) !== null);
}
