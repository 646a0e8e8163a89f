// A TCP key-value store for rendezvous, shaped like torch.distributed's TCPStore: one process (rank
// 0) hosts it, every rank connects to MASTER_ADDR:MASTER_PORT; `set`, `get` (waits until the key
// exists), `add`, `wait` and `check`, all with timeouts. Gloo's rendezvous reads the same store
// from C++ (native/gloo/store_client.cc implements gloo::rendezvous::Store against this protocol).
//
// Wire format (little-endian), one frame per request and per reply:
//   request: u32 length | u8 op | u32 key length | key (UTF-8) | value
//   reply:   u32 length | u8 status (0 ok, 1 error) | payload (the value, or the error message)
// Ops: 1 SET, 2 GET (value: u32 timeout ms; the reply waits for the key), 3 ADD (value: the
// decimal delta; reply: the new decimal value), 4 CHECK (value: keys joined by '\0'; reply '1'/'0'),
// 5 DELETE. A client sends one request at a time and reads its reply.
import { createServer, connect, type Server, type Socket } from "node:net";
import { IngotError, ValueError } from "../tensor/index.js";

const OP = { SET: 1, GET: 2, ADD: 3, CHECK: 4, DELETE: 5 } as const;

/** Options of a TCPStore (torch.distributed.TCPStore's, in camelCase). */
export interface TCPStoreOptions {
  host: string;
  port: number;
  /** Host the store here (rank 0) as well as connect to it. */
  isMaster?: boolean;
  /** How long get/wait and connecting wait (default 300 000 ms, torch's default store timeout). */
  timeoutMs?: number;
}

/** Frames arriving on a socket, split into messages. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

function frame(head: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([head]), ...parts]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([len, body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

/** The server side: the keys, and the GETs waiting for keys that are not set yet. */
class StoreServer {
  private readonly data = new Map<string, Buffer>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sockets = new Set<Socket>();
  constructor(readonly server: Server) {
    server.on("connection", (s) => this.serve(s));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader();
    let chain = Promise.resolve();
    socket.on("data", (chunk) => {
      for (const msg of reader.push(chunk)) chain = chain.then(() => this.handle(socket, msg));
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.sockets.delete(socket));
  }

  private reply(socket: Socket, ok: boolean, payload: Buffer): void {
    if (!socket.destroyed) socket.write(frame(ok ? 0 : 1, payload));
  }

  private set(key: string, value: Buffer): void {
    this.data.set(key, value);
    const w = this.waiters.get(key);
    if (w) {
      this.waiters.delete(key);
      for (const f of w) f();
    }
  }

  private async handle(socket: Socket, msg: Buffer): Promise<void> {
    const op = msg[0];
    const klen = msg.readUInt32LE(1);
    const key = msg.subarray(5, 5 + klen).toString("utf8");
    const value = Buffer.from(msg.subarray(5 + klen));
    switch (op) {
      case OP.SET:
        this.set(key, value);
        return this.reply(socket, true, Buffer.alloc(0));
      case OP.GET: {
        const timeoutMs = value.readUInt32LE(0);
        const got = await this.waitFor(key, timeoutMs);
        return got ? this.reply(socket, true, got) : this.reply(socket, false, Buffer.from(`timed out after ${timeoutMs} ms waiting for key '${key}'`));
      }
      case OP.ADD: {
        const next = Number(this.data.get(key)?.toString() ?? "0") + Number(value.toString());
        this.set(key, Buffer.from(String(next)));
        return this.reply(socket, true, Buffer.from(String(next)));
      }
      case OP.CHECK: {
        const keys = value.toString().split("\0");
        return this.reply(socket, true, Buffer.from(keys.every((k) => this.data.has(k)) ? "1" : "0"));
      }
      case OP.DELETE:
        return this.reply(socket, true, Buffer.from(this.data.delete(key) ? "1" : "0"));
      default:
        return this.reply(socket, false, Buffer.from(`unknown store op ${op}`));
    }
  }

  private waitFor(key: string, timeoutMs: number): Promise<Buffer | null> {
    const have = this.data.get(key);
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        resolve(this.data.get(key) ?? null);
      };
      const timer = setTimeout(() => {
        set!.delete(done);
        resolve(null);
      }, timeoutMs);
      timer.unref();
      set.add(done);
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const [, w] of this.waiters) for (const f of w) f();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * torch.distributed.TCPStore: `await TCPStore.create({host, port, isMaster})`. With `isMaster` this
 * process listens on `port` (0 picks a free one; see `.port`) on every interface, then connects to it.
 */
export class TCPStore {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly reader = new FrameReader();
  private pending: ((msg: Buffer) => void) | null = null;
  private closed: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly server: StoreServer | null,
    readonly host: string,
    readonly port: number,
    readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.unref(); // an idle store connection does not keep the process alive (a pending request's timer does)
    socket.on("data", (chunk) => {
      for (const msg of this.reader.push(chunk)) {
        const p = this.pending;
        this.pending = null;
        p?.(msg);
      }
    });
    const gone = (why: string) => {
      this.closed ??= new IngotError(`TCPStore ${host}:${port}: ${why} (has rank 0 exited?)`);
      const p = this.pending;
      this.pending = null;
      p?.(Buffer.concat([Buffer.from([1]), Buffer.from(this.closed.message)]));
    };
    socket.on("close", () => gone("the connection closed"));
    socket.on("error", (e) => gone(`connection error: ${e.message}`));
  }

  static async create(opts: TCPStoreOptions): Promise<TCPStore> {
    const timeoutMs = opts.timeoutMs ?? 300_000;
    if (!opts.host) throw new ValueError("TCPStore: host is required (MASTER_ADDR)");
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new ValueError(`TCPStore: port must be an integer in [0, 65535], got ${opts.port}`);
    let server: StoreServer | null = null;
    let port = opts.port;
    if (opts.isMaster) {
      const srv = createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once("error", (e: NodeJS.ErrnoException) =>
          reject(new IngotError(`TCPStore: rank 0 cannot listen on port ${opts.port}: ${e.code === "EADDRINUSE" ? "the port is in use; pick another MASTER_PORT" : e.message}`)),
        );
        srv.listen(opts.port, () => resolve());
      });
      srv.unref();
      port = (srv.address() as { port: number }).port;
      server = new StoreServer(srv);
    }
    const socket = await connectWithRetry(opts.host, port, timeoutMs);
    return new TCPStore(socket, server, opts.host, port, timeoutMs);
  }

  /** The address this process uses to reach the store (the interface other hosts can reach it on). */
  get localAddress(): string {
    return this.socket.localAddress ?? "127.0.0.1";
  }

  private request(op: number, key: string, value: Buffer, timeoutMs: number): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.closed) return reject(this.closed);
        const k = Buffer.from(key, "utf8");
        // Give the server its own timeout plus a margin before deciding it is gone.
        const timer = setTimeout(() => {
          this.pending = null;
          reject(new IngotError(`TCPStore ${this.host}:${this.port}: no reply for key '${key}' within ${timeoutMs} ms`));
        }, timeoutMs + 5000);
        this.pending = (msg) => {
          clearTimeout(timer);
          if (msg[0] === 0) resolve(Buffer.from(msg.subarray(1)));
          else reject(new IngotError(`TCPStore ${this.host}:${this.port}: ${msg.subarray(1).toString()}`));
        };
        this.socket.write(frame(op, u32(k.length), k, value));
      });
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Sets key to value (a string or bytes). */
  async set(key: string, value: string | Uint8Array): Promise<void> {
    await this.request(OP.SET, key, Buffer.from(typeof value === "string" ? Buffer.from(value) : value), this.timeoutMs);
  }

  /** The value of key, waiting up to timeoutMs for another rank to set it. */
  get(key: string, timeoutMs = this.timeoutMs): Promise<Buffer> {
    return this.request(OP.GET, key, u32(timeoutMs), timeoutMs);
  }

  /** Adds delta to the integer at key (0 when absent) and returns the new value. */
  async add(key: string, delta: number): Promise<number> {
    if (!Number.isInteger(delta)) throw new ValueError(`TCPStore.add: delta must be an integer, got ${delta}`);
    return Number((await this.request(OP.ADD, key, Buffer.from(String(delta)), this.timeoutMs)).toString());
  }

  /** Waits until every key is set. */
  async wait(keys: string[], timeoutMs = this.timeoutMs): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (const k of keys) await this.get(k, Math.max(1, end - Date.now()));
  }

  /** True when every key is set (does not wait). */
  async check(keys: string[]): Promise<boolean> {
    return (await this.request(OP.CHECK, "", Buffer.from(keys.join("\0")), this.timeoutMs)).toString() === "1";
  }

  /** Removes key; true when it existed. */
  async deleteKey(key: string): Promise<boolean> {
    return (await this.request(OP.DELETE, key, Buffer.alloc(0), this.timeoutMs)).toString() === "1";
  }

  /** Disconnects; the master also stops serving. */
  async close(): Promise<void> {
    this.closed ??= new IngotError(`TCPStore ${this.host}:${this.port}: closed`);
    this.socket.destroy();
    await this.server?.close();
  }
}

async function connectWithRetry(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host, port });
        s.once("connect", () => {
          s.removeAllListeners("error");
          resolve(s);
        });
        s.once("error", reject);
      });
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new IngotError(`TCPStore: could not connect to ${host}:${port} within ${timeoutMs} ms (${last}); is rank 0 running, and are MASTER_ADDR/MASTER_PORT right?`);
}
