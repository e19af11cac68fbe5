import type { FastifyInstance, FastifySchema } from 'fastify';
import Negotiator from 'negotiator';
import { z } from 'zod';
import { NotAcceptableError } from './error-handler.js';
import { asSent } from './media-types.js';

/** A route's media types as it declares them (named in a 406), and as the service sends them (offered to the Accept header). */
interface Offer {
  readonly declared: readonly string[];
  readonly sent: string[];
}

const JSON_ONLY = ['application/json'];
/** A response declared with its media types (the feed's text/event-stream), rather than as a zod schema of JSON. */
const DeclaredContent = z.object({ content: z.record(z.string(), z.unknown()) });
const SuccessResponses = z.looseObject({ 200: z.unknown().optional() });

/** The media types a route answers a success in: its `produces`, its 200's declared content, or JSON. */
function declaredMediaTypes(schema: FastifySchema | undefined): readonly string[] {
  if (schema?.produces !== undefined && schema.produces.length > 0) return schema.produces;
  const ok = SuccessResponses.safeParse(schema?.response).data?.[200];
  const declared = DeclaredContent.safeParse(ok);
  return declared.success ? Object.keys(declared.data.content) : JSON_ONLY;
}

/** Each route's offer, worked out at its first read that names an Accept header (a route's schema does not change). */
const offers = new WeakMap<FastifySchema, Offer>();
const JSON_OFFER: Offer = { declared: JSON_ONLY, sent: JSON_ONLY.map(asSent) };

function offerOf(schema: FastifySchema | undefined): Offer {
  if (schema === undefined) return JSON_OFFER;
  let offer = offers.get(schema);
  if (offer === undefined) {
    const declared = declaredMediaTypes(schema);
    offer = { declared, sent: declared.map(asSent) };
    offers.set(schema, offer);
  }
  return offer;
}

/**
 * Refuses (406) a read whose Accept header names none of the media types its route answers in
 * (`Accept: application/xml`, or `text/csv;q=0, application/json;q=0`), naming those it does,
 * rather than answering JSON the client said it cannot read (RFC 9110 §12.5.1 allows either; a
 * client that asked for something else is better told). No header, `*` / `*` or a browser's list
 * ending in it are acceptable. Reads by key only (what a client program asks), after the key and
 * its role are checked; writes are not refused for it, so that an odd header never loses an event.
 */
export function registerResponseNegotiation(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const { access } = request.routeOptions.config;
    if (access === undefined || access === 'public' || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    // The answer, or the refusal, depends on the header: a cache must not hand one to another request.
    reply.header('vary', 'Accept');
    const accept = request.headers.accept;
    // An empty header names nothing, as no header does.
    if (accept === undefined || accept.trim() === '') return;
    const offer = offerOf(request.routeOptions.schema);
    if (new Negotiator({ headers: { accept } }).mediaType(offer.sent) === undefined) throw new NotAcceptableError(accept, offer.declared);
  });
}
