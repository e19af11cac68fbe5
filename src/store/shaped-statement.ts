import { isDeepStrictEqual } from 'node:util';
import { CompiledQuery, type Compilable, type QueryResult, type RawBuilder } from 'kysely';
import type { Db } from './database.js';
import type { WorldKey } from './page-cursor.js';

/*
 * A view's statement, built with Kysely and compiled once for each shape and then sent again with
 * each request's values. Building and compiling it was a sixth of the service's CPU on a small view
 * at 32 clients (a profile of GET /v1/programs/:id on a 1M history: Kysely's freeze, visitNode and
 * reference parsing), and its text is the same for every request of a shape; only the values differ.
 *
 * A statement names its input's values through StandIns, once, in one function (withStandIns):
 * each value it sends as a parameter, and each choice that changes its text. A request walks them
 * to learn its shape and its values; the first request of a shape has the statement built twice
 * with two sets of stand-ins in their places, and compiled, and the two compiled statements must
 * have the same text, each stand-in in the same parameter: a value that reached the text, or was
 * taken apart on its way to a parameter, makes them differ, and the statement refuses to run. So a
 * text is never sent with another request's values in it. A build decides its text by which values
 * it has and by its choices alone, never by a value: the two sets of stand-ins fall opposite ways
 * in a comparison (standInSet), which shows most such decisions, but not every one (a clamp to a
 * constant, say). A choice that depends on values is named with `choice`, or made in SQL.
 */

/**
 * Each value is named in its place, given or not: the shape is the sequence of them, so a value left
 * out is told apart from another one left out (asOf without knownAt from knownAt without asOf).
 */
export interface StandIns {
  text(value: string): string;
  optionalText(value: string | undefined): string | undefined;
  texts(value: readonly string[]): readonly string[];
  instant(value: Date): Date;
  optionalInstant(value: Date | undefined): Date | undefined;
  count(value: number): number;
  /** Values given together or not at all (a page's cursor), each named inside `walk`. */
  optional<T>(value: T | undefined, walk: (value: T) => T): T | undefined;
  /** A choice that changes the statement's text (a part left out, a condition added), not a value in it. */
  choice(value: boolean): boolean;
}

/** A page's cursor in world order (a timeline's, a consortium's enrolments), through its stand-ins, when given. */
export const optionalWorldKey = (key: WorldKey | undefined, s: StandIns): WorldKey | undefined =>
  s.optional(key, (k) => ({ start: s.instant(k.start), position: s.text(k.position) }));

type Slot = { readonly standIn: number } | { readonly constant: unknown };

interface Template {
  readonly text: string;
  readonly slots: readonly Slot[];
}

/** A statement of raw SQL, or one of Kysely's query builders. */
type Statement<R> = RawBuilder<R> | Compilable<R>;

const compile = <R>(statement: Statement<R>, db: Db): CompiledQuery<R> => ('isRawBuilder' in statement ? statement.compile(db) : statement.compile());

type ShapedStatement<I, R> = (db: Db, input: I) => Promise<QueryResult<R>>;

export function shapedStatement<I, R>(withStandIns: (input: I, standIns: StandIns) => I, build: (input: I, db: Db) => Statement<R>): ShapedStatement<I, R> {
  const templates = new Map<string, Template>();
  return async (db, input) => {
    const { standIns, values, shape } = realValues();
    withStandIns(input, standIns);
    const key = shape();
    let template = templates.get(key);
    if (template === undefined) {
      template = compileShape(db, input, withStandIns, build);
      templates.set(key, template);
    }
    const parameters = template.slots.map((slot) => ('standIn' in slot ? values[slot.standIn] : slot.constant));
    return db.executeQuery<R>(CompiledQuery.raw(template.text, parameters));
  };
}

/** StandIns that record a request's values, in order, and its shape: which of them it has, and its choices. */
function realValues(): { standIns: StandIns; values: unknown[]; shape: () => string } {
  const values: unknown[] = [];
  const marks: string[] = [];
  const given =
    (mark: string) =>
    <T>(v: T): T => {
      values.push(v);
      marks.push(mark);
      return v;
    };
  // A value left out has no stand-in either (standInSet): nothing to send, only its mark.
  const optional =
    (mark: string) =>
    <T>(v: T | undefined): T | undefined => {
      if (v !== undefined) values.push(v);
      marks.push(v === undefined ? '-' : mark);
      return v;
    };
  return {
    standIns: {
      text: given('t'),
      optionalText: optional('t'),
      texts: given('a'),
      instant: given('d'),
      optionalInstant: optional('d'),
      count: given('n'),
      optional: (v, walk) => {
        marks.push(v === undefined ? '-' : '+');
        return v === undefined ? v : walk(v);
      },
      choice: (v) => {
        marks.push(v ? '1' : '0');
        return v;
      },
    },
    values,
    shape: () => marks.join(''),
  };
}

/**
 * StandIns that give each value a stand-in of its own, distinct from every other and from those of
 * the other set, in value as well as identity: a copy of one is never taken for a constant. The two
 * sets run in opposite orders, far apart (set a's instants and counts rise with their place, set
 * b's fall, and a's arrays hold two texts, b's one), so that a comparison between two values, or
 * with a constant, or a look at an array's length, falls one way in one set and the other way in
 * the other, and makes the texts differ, as far as stand-ins can make them.
 */
function standInSet(set: 'a' | 'b'): { standIns: StandIns; list: unknown[] } {
  const list: unknown[] = [];
  const add = <T>(standIn: T): T => {
    list.push(standIn);
    return standIn;
  };
  const rising = set === 'a';
  const name = () => `\u0000stand-in ${set}/${list.length}`;
  const instantStandIn = () => new Date(rising ? Date.UTC(1000, 0, 1) + list.length * 7_919 : Date.UTC(9000, 0, 1) - list.length * 104_729);
  return {
    standIns: {
      text: () => add(name()),
      optionalText: (v) => (v === undefined ? v : add(name())),
      texts: () => add(rising ? [name(), `${name()}+`] : [name()]),
      instant: () => add(instantStandIn()),
      optionalInstant: (v) => (v === undefined ? v : add(instantStandIn())),
      count: () => add(rising ? 1_000_003 + list.length * 7_919 : 9_000_017 - list.length * 104_729),
      optional: (v, walk) => (v === undefined ? v : walk(v)),
      choice: (v) => v,
    },
    list,
  };
}

function compileShape<I, R>(db: Db, input: I, withStandIns: (input: I, standIns: StandIns) => I, build: (input: I, db: Db) => Statement<R>): Template {
  const a = standInSet('a');
  const b = standInSet('b');
  const first = compile(build(withStandIns(input, a.standIns), db), db);
  const second = compile(build(withStandIns(input, b.standIns), db), db);
  const refuse = (why: string) => new Error(`a shaped statement ${why}: ${first.sql}`);
  if (first.sql !== second.sql || first.parameters.length !== second.parameters.length) throw refuse('has a text that depends on its values');
  const slots = first.parameters.map((parameter, i): Slot => {
    const other = second.parameters[i];
    const standIn = a.list.indexOf(parameter);
    if (standIn >= 0 && b.list.indexOf(other) === standIn) return { standIn };
    if (standIn >= 0 || b.list.includes(other) || !isDeepStrictEqual(parameter, other)) {
      throw refuse(`does not send the same named value to parameter $${i + 1} in both builds (a copy of a value, or a choice between values)`);
    }
    return { constant: parameter };
  });
  return { text: first.sql, slots };
}
