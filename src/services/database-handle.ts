/** The database handle routes receive and pass to services, without reaching into the store. */
export type { Db } from '../store/database.js';
