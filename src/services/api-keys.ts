import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { API_KEY_PREFIX, API_KEY_SHAPE, type Principal, type Role } from '../domain/access.js';
import { SubjectNotFoundError, UnauthenticatedError } from '../domain/errors.js';
import { decodeCreatedCursor, encodeCreatedCursor } from '../store/page-cursor.js';
import type { CursorScope } from '../store/cursor-scope.js';
import type { Db } from '../store/database.js';
import {
  ENVIRONMENT_KEY_PREFIX,
  ensureApiKey,
  findApiKeyByHash,
  findApiKeyById,
  hasLiveAdminKey,
  insertApiKey,
  listApiKeys as listStoredApiKeys,
  revokeApiKey as revokeStoredApiKey,
  type StoredApiKey,
} from '../store/api-keys.js';

const API_KEYS: CursorScope = { list: 'api-keys' };

export type ApiKey = StoredApiKey;

const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The API keys an admin issues, lists and revokes, and whether one is still active. */
export interface KeyRegistry {
  readonly createApiKey: (name: string, role: Role) => Promise<ApiKey & { readonly key: string }>;
  readonly listApiKeys: (page: { after: string | undefined; limit: number }) => Promise<{ items: ApiKey[]; nextCursor: string | undefined }>;
  readonly getApiKey: (id: string) => Promise<ApiKey>;
  readonly revokeApiKey: (id: string) => Promise<ApiKey>;
  readonly isApiKeyActive: (keyId: string) => Promise<boolean>;
}

export function createKeyRegistry(db: Db): KeyRegistry {
  return {
    createApiKey: createApiKey.bind(null, db),
    listApiKeys: listApiKeys.bind(null, db),
    getApiKey: getApiKey.bind(null, db),
    revokeApiKey: revokeApiKey.bind(null, db),
    isApiKeyActive: isApiKeyActive.bind(null, db),
  };
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export async function createApiKey(db: Db, name: string, role: Role): Promise<ApiKey & { readonly key: string }> {
  const key = API_KEY_PREFIX + randomBytes(24).toString('base64url');
  const stored = await insertApiKey(db, { id: randomUUID(), name, role, keyHash: hashKey(key), keyPrefix: key.slice(0, SHOWN_PREFIX_LENGTH) });
  return { ...stored, key };
}

/**
 * Makes the operator's ADMIN_API_KEY a valid admin key. Any string is accepted as that key (the
 * operator chose it), so it is hashed as it is; seeding twice, or from several instances, is harmless.
 */
/** Stores ADMIN_API_KEY's hash unless stored already; returns whether it is live (revoking it through the API sticks). */
export async function seedAdminKey(db: Db, key: string): Promise<boolean> {
  const keyHash = hashKey(key);
  await ensureApiKey(db, { id: randomUUID(), name: 'ADMIN_API_KEY', role: 'admin', keyHash, keyPrefix: ENVIRONMENT_KEY_PREFIX });
  return (await findApiKeyByHash(db, keyHash))?.revokedAt === null;
}

/** Whether an admin key of the API's own (`mlk_`) is live: keys can be created with it, whatever ADMIN_API_KEY is. */
export const hasLiveApiAdminKey = (db: Db): Promise<boolean> => hasLiveAdminKey(db);

/** A page in creation order; `nextCursor` is set when more may follow. */
async function listApiKeys(db: Db, page: { after: string | undefined; limit: number }): Promise<{ items: ApiKey[]; nextCursor: string | undefined }> {
  const found = await listStoredApiKeys(db, page.after === undefined ? undefined : decodeCreatedCursor(page.after, API_KEYS), page.limit);
  return { items: found.items, nextCursor: found.next === undefined ? undefined : encodeCreatedCursor(API_KEYS, found.next) };
}

/** One key, revoked or not (never the key itself, which is not stored). */
async function getApiKey(db: Db, id: string): Promise<ApiKey> {
  const found = await findApiKeyById(db, id);
  if (found === undefined) throw new SubjectNotFoundError('api key', id);
  return found;
}

export async function revokeApiKey(db: Db, id: string): Promise<ApiKey> {
  const revoked = await revokeStoredApiKey(db, id);
  if (revoked === undefined) throw new SubjectNotFoundError('api key', id);
  return revoked;
}

/** Resolves an Authorization header to a key's principal, or says why it cannot. */
export interface KeyAuthenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Drops what this instance remembers of a key: its revocation takes effect here at once. */
  forget(keyId: string): void;
}

/**
 * Keys revoked through this instance, told at once to what holds them: the authenticator's memory,
 * and the live feeds open with them (which otherwise found out at their next look-up).
 */
export interface KeyRevocations {
  revoked(keyId: string): void;
  /** Hears each key revoked here from now on, until the returned function is called. */
  listen(listener: (keyId: string) => void): () => void;
}

export function createKeyRevocations(): KeyRevocations {
  const listeners = new Set<(keyId: string) => void>();
  return {
    revoked: (keyId) => {
      for (const listener of listeners) listener(keyId);
    },
    listen: (listener) => {
      // Wrapped, so that one function listening twice is two listeners, each removed on its own.
      const own = (keyId: string) => listener(keyId);
      listeners.add(own);
      return () => listeners.delete(own);
    },
  };
}

/** Keys remembered at most; a key seen again after being pushed out is looked up again. */
const REMEMBERED_KEYS = 10_000;

/**
 * Every keyed request needs its key's principal; looking it up costs a round trip per request. A key
 * found active is remembered for `cacheMs` (0: never), so a revocation reaches the instance that made
 * it at once (forget) and the other instances sharing the database within `cacheMs`. Unknown and
 * revoked keys are not remembered: a burst of bad keys cannot push good ones out.
 */
export function createKeyAuthenticator(db: Db, adminKey: string | undefined, cacheMs: number): KeyAuthenticator {
  const remembered = cacheMs > 0 ? new LRUCache<string, Principal>({ max: REMEMBERED_KEYS, ttl: cacheMs }) : undefined;
  // A look-up that began before a revocation here may have read the key active: it is not remembered.
  let revocations = 0;
  return {
    async authenticate(authorization) {
      const hash = hashKey(presentedKey(authorization, adminKey));
      const known = remembered?.get(hash);
      if (known !== undefined) return known;
      const seen = revocations;
      const stored = await findApiKeyByHash(db, hash);
      if (stored === undefined) throw new UnauthenticatedError('unknown');
      if (stored.revokedAt !== null) throw new UnauthenticatedError('revoked');
      const principal = { keyId: stored.id, name: stored.name, role: stored.role };
      if (seen === revocations) remembered?.set(hash, principal);
      return principal;
    },
    forget(keyId) {
      revocations += 1;
      for (const [hash, principal] of remembered?.entries() ?? []) if (principal.keyId === keyId) remembered?.delete(hash);
    },
  };
}

/** The key in a Bearer header, if it has a key's shape (or is the operator's ADMIN_API_KEY). */
function presentedKey(authorization: string | undefined, adminKey: string | undefined): string {
  if (authorization === undefined || authorization === '') throw new UnauthenticatedError('missing');
  // The scheme is case-insensitive and followed by one or more spaces (RFC 9110 §11.1, §11.4).
  const match = /^bearer +([\x21-\x7e]+)$/i.exec(authorization);
  const key = match?.[1];
  if (key === undefined || (!API_KEY_SHAPE.test(key) && !isAdminKey(key, adminKey))) throw new UnauthenticatedError('malformed');
  return key;
}

/** Compared as digests of one length, in constant time: how long a comparison takes tells nothing of the key. */
const isAdminKey = (key: string, adminKey: string | undefined): boolean =>
  adminKey !== undefined && timingSafeEqual(createHash('sha256').update(key).digest(), createHash('sha256').update(adminKey).digest());

/** Whether a key still exists unrevoked: long-lived requests (the live feed) ask again as they go. */
async function isApiKeyActive(db: Db, keyId: string): Promise<boolean> {
  const key = await findApiKeyById(db, keyId);
  return key !== undefined && key.revokedAt === null;
}
