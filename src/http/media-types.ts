/**
 * The media types the service answers in, as its Content-Type says them: what content negotiation
 * must offer, since an Accept entry with parameters (`application/json; charset=utf-8`, which some
 * client libraries send) only matches a type that has them (RFC 9110 §12.5.1).
 */
export const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';
/** The CSV a view writes: UTF-8, with a header row (RFC 4180's `header` parameter). */
export const CSV_MEDIA_TYPE = 'text/csv; charset=utf-8; header=present';
export const EVENT_STREAM_MEDIA_TYPE = 'text/event-stream; charset=utf-8';

const AS_SENT: Readonly<Record<string, string>> = {
  'application/json': JSON_MEDIA_TYPE,
  'text/csv': CSV_MEDIA_TYPE,
  'text/event-stream': EVENT_STREAM_MEDIA_TYPE,
};

/** A media type as a route declares it (`text/csv`), as the service sends it. */
export const asSent = (type: string): string => AS_SENT[type] ?? type;
