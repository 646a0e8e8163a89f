// Per-key access control for `ingot serve`: a key may be limited to some models (others get 403) and
// to a request rate (a token bucket; over it, 429 with Retry-After). The keys file keeps its format,
// one key per line, with optional fields after the key:
//   sk-team-a   models=mnist,char-gpt   rpm=60   burst=10    # a comment
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApiError } from "./errors.js";

/** What a key may do: models (null = every model) and requests per minute (null = no limit). */
export interface KeyPolicy {
  models: string[] | null;
  rpm: number | null;
  /** The bucket's size: requests that may come at once after a quiet spell (default: rpm). */
  burst: number | null;
}

/** A key as ServeOptions.apiKeys takes it: the key alone (no limits), or with its policy. */
export type ApiKeySpec = string | ({ key: string } & Partial<KeyPolicy>);

export interface KeyEntry {
  digest: Buffer;
  /** The first 8 hex digits of the key's SHA-256: names the key in logs without revealing it. */
  id: string;
  policy: KeyPolicy;
}

const digestOf = (key: string) => createHash("sha256").update(key).digest();

function positiveInt(v: string, field: string, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: ${field} must be an integer ≥ 1, got '${v}'`);
  return n;
}

/** Parses one line of a keys file (comments already removed): KEY [models=a,b] [rpm=N] [burst=N]. */
export function parseKeyLine(line: string, where: string): { key: string } & KeyPolicy {
  const [key, ...fields] = line.trim().split(/\s+/);
  const out: { key: string } & KeyPolicy = { key, models: null, rpm: null, burst: null };
  for (const f of fields) {
    const eq = f.indexOf("=");
    const name = eq > 0 ? f.slice(0, eq) : f;
    const value = eq > 0 ? f.slice(eq + 1) : "";
    if (name === "models") {
      out.models = value.split(",").map((s) => s.trim()).filter(Boolean);
      if (!out.models.length) throw new Error(`${where}: models= lists no model; write models=NAME[,NAME…] or leave the field out for every model`);
    } else if (name === "rpm") out.rpm = positiveInt(value, "rpm", where);
    else if (name === "burst") out.burst = positiveInt(value, "burst", where);
    else throw new Error(`${where}: unknown field '${f}'; a key line is KEY [models=a,b] [rpm=N] [burst=N]`);
  }
  if (out.burst !== null && out.rpm === null) throw new Error(`${where}: burst= needs rpm= (the rate the bucket refills at)`);
  return out;
}

/** Reads a keys file: one key per line, '#' starts a comment, optional models=/rpm=/burst= fields. */
export function readKeysFile(file: string): ({ key: string } & KeyPolicy)[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`ingot serve: cannot read the API keys file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: ({ key: string } & KeyPolicy)[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const line = l.replace(/#.*/, "").trim();
    if (line) out.push(parseKeyLine(line, `ingot serve: ${file} line ${i + 1}`));
  });
  return out;
}

/** A token bucket: `capacity` tokens, refilled at `perMinute` per minute; a request takes one. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly perMinute: number,
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes a token: 0 when there was one, else the seconds until there will be one. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 60_000) * this.perMinute);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) * 60) / this.perMinute;
  }
}

/** The server's keys with their policies and rate buckets (buckets survive a reload of the keys file). */
export class AccessControl {
  private entries: KeyEntry[] = [];
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces the keys (at start and on reload). */
  setKeys(specs: ApiKeySpec[]): void {
    this.entries = specs.map((s) => {
      const o = typeof s === "string" ? { key: s } : s;
      if (typeof o.key !== "string" || !o.key) throw new Error("ingot serve: an API key is empty");
      const digest = digestOf(o.key);
      return { digest, id: digest.toString("hex").slice(0, 8), policy: { models: o.models ?? null, rpm: o.rpm ?? null, burst: o.burst ?? null } };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entry of a presented key, compared as SHA-256 digests in constant time; undefined when unknown. */
  find(key: string): KeyEntry | undefined {
    const d = digestOf(key);
    let found: KeyEntry | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found ??= e;
    return found;
  }

  /** Counts a request against the key's rate: throws 429 with Retry-After when its bucket is empty. */
  charge(e: KeyEntry): void {
    const { rpm, burst } = e.policy;
    if (rpm === null) return;
    const capacity = burst ?? rpm;
    let b = this.buckets.get(e.id);
    if (!b || b.perMinute !== rpm || b.capacity !== capacity) this.buckets.set(e.id, (b = new TokenBucket(rpm, capacity, this.now)));
    const wait = b.take();
    if (wait > 0)
      throw new ApiError(429, `rate limit reached for this API key: ${rpm} requests per minute (burst ${capacity}); retry after ${Math.ceil(wait)} s`, "rate_limit_error", "rate_limit_exceeded", null, {
        "retry-after": String(Math.max(1, Math.ceil(wait))),
      });
  }

  /** Throws 403 when the key may not use the model. */
  checkModel(e: KeyEntry, model: string): void {
    if (e.policy.models && !e.policy.models.includes(model))
      throw new ApiError(403, `this API key may not use the model '${model}'; it may use ${e.policy.models.map((m) => `'${m}'`).join(", ")}`, "invalid_request_error", "model_not_allowed", "model");
  }

  /** Throws 403 for admin routes when the key is limited to some models. */
  checkAdmin(e: KeyEntry): void {
    if (e.policy.models) throw new ApiError(403, "this API key is limited to some models and may not use /admin routes; use a key without models=", "invalid_request_error", "admin_not_allowed");
  }
}
