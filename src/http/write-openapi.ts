import { writeFile } from 'node:fs/promises';
import { buildApp } from '../app.js';
import { openDatabase } from '../store/open-database.js';
import { renderOpenApi, OPENAPI_PATH } from './render-openapi.js';

// `npm run openapi`: regenerates the committed document from the route schemas.
const { db } = await openDatabase({ kind: 'postgres', url: 'postgres://unused.invalid/none', poolSize: 1 });
const app = await buildApp({ db });
await writeFile(OPENAPI_PATH, await renderOpenApi(app));
await app.close();
await db.destroy();
console.log(`wrote ${OPENAPI_PATH.pathname}`);
