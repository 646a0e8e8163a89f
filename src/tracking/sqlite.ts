// Opens SQLite databases through better-sqlite3 (an optional dependency with a native addon), loaded
// on first use so that Ingot works without it; the types below cover the part of its API used here.
import { createRequire } from "node:module";
import { IngotError } from "../tensor/index.js";

export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): unknown;
  readonly open: boolean;
}

type DatabaseCtor = new (path: string, options?: { timeout?: number; readonly?: boolean; fileMustExist?: boolean }) => Database;

/** The run store cannot work: better-sqlite3 is missing, or the database cannot be opened. */
export class TrackingError extends IngotError {}

let ctor: DatabaseCtor | null = null;

/** better-sqlite3's Database class; throws a TrackingError that says how to install it when it is missing. */
export function sqlite(): DatabaseCtor {
  if (ctor) return ctor;
  try {
    ctor = createRequire(import.meta.url)("better-sqlite3") as DatabaseCtor;
    return ctor;
  } catch (e) {
    throw new TrackingError(
      `the run store needs the better-sqlite3 package, which is not installed or did not build (${(e as Error).message.split("\n")[0]}); ` +
        "install it with `npm install better-sqlite3` (its build needs python3, make and a C++ compiler when no prebuilt binary can be downloaded)",
    );
  }
}
