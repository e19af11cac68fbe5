import type { Db } from '../store/database.js';
import { countRequest, type WindowCount } from '../store/rate-limit-windows.js';

export type { WindowCount };

/** Counts a request of an API key in the window shared by every instance on the database. */
export const countKeyRequest = (db: Db, keyId: string, windowMs: number): Promise<WindowCount> => countRequest(db, `key:${keyId}`, windowMs);
