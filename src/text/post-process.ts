// Post-processing: the special tokens wrapped around an encoded sequence (or pair), as Hugging Face's
// TemplateProcessing ("[CLS] $A [SEP]"), BertProcessing, RobertaProcessing and ByteLevel (no-op).
import { ValueError } from "../tensor/index.js";

/** One slot of a template: a special token, or sequence A or B, with its token type id. */
export type TemplatePiece = { special: string; typeId: number } | { sequence: "A" | "B"; typeId: number };

/** The ids, token type ids and special-token mask of a processed sequence. */
export interface Processed {
  ids: number[];
  typeIds: number[];
  specialMask: number[];
}

type Lookup = (token: string) => number | undefined;

/** Parses Hugging Face's template string syntax: "[CLS] $A [SEP]", "$B:1 [SEP]:1". */
export function parseTemplate(template: string, where: string): TemplatePiece[] {
  return template
    .trim()
    .split(/\s+/)
    .filter((s) => s.length > 0)
    .map((item) => {
      const m = /^(.*?)(?::(\d+))?$/.exec(item)!;
      const [body, typeId] = [m[1], m[2] === undefined ? 0 : Number(m[2])];
      if (body === "$" || body === "$A") return { sequence: "A" as const, typeId };
      if (body === "$B") return { sequence: "B" as const, typeId };
      if (body.startsWith("$")) throw new ValueError(`${where}: unknown sequence '${body}' in template '${template}'; use $A or $B`);
      return { special: body, typeId };
    });
}

const templateString = (pieces: TemplatePiece[]) =>
  pieces.map((p) => ("special" in p ? p.special : `$${p.sequence}`) + (p.typeId !== 0 ? `:${p.typeId}` : "")).join(" ");

/** A post-processor: a single and a pair template (or none), and the tokenizer.json it came from. */
export class PostProcessor {
  constructor(
    readonly single: TemplatePiece[] | null,
    readonly pair: TemplatePiece[] | null,
    /** Ids of each special token of the templates. */
    readonly specialIds: ReadonlyMap<string, number[]>,
    private readonly json: unknown = null,
  ) {}

  /** A template processor from Hugging Face's string syntax, resolving special tokens in the vocabulary. */
  static fromTemplate(single: string, pair: string | undefined, lookup: Lookup, where = "setTemplate"): PostProcessor {
    const s = parseTemplate(single, where);
    if (s.filter((x) => "sequence" in x).length !== 1 || s.some((x) => "sequence" in x && x.sequence === "B"))
      throw new ValueError(`${where}: the single template '${single}' must hold $A exactly once (and no $B), e.g. "[CLS] $A [SEP]"`);
    // Without a pair template, B follows the single template like BERT's: "[CLS] $A [SEP] $B:1 [SEP]:1".
    const afterA = s.slice(s.findIndex((x) => "sequence" in x) + 1);
    const p = pair !== undefined ? parseTemplate(pair, where) : [...s, { sequence: "B" as const, typeId: 1 }, ...afterA.map((x) => ({ ...x, typeId: 1 }))];
    const ids = new Map<string, number[]>();
    for (const piece of [...s, ...p]) {
      if (!("special" in piece)) continue;
      const id = lookup(piece.special);
      if (id === undefined) throw new ValueError(`${where}: the template's special token '${piece.special}' is not in the vocabulary; add it first (addSpecialTokens)`);
      ids.set(piece.special, [id]);
    }
    return new PostProcessor(s, p, ids);
  }

  /** Reads tokenizer.json's "post_processor". */
  static fromJSON(j: unknown, lookup: Lookup, where: string): PostProcessor | null {
    if (j === null || j === undefined) return null;
    const o = j as Record<string, unknown>;
    const pairOf = (k: string): [string, number] => {
      const v = o[k] as [string, number];
      if (!Array.isArray(v) || typeof v[0] !== "string" || typeof v[1] !== "number") throw new ValueError(`${where}: ${o.type} needs "${k}": [token, id]`);
      return v;
    };
    switch (o.type) {
      case "ByteLevel":
        return new PostProcessor(null, null, new Map(), j);
      case "TemplateProcessing": {
        const piece = (x: Record<string, { id: string; type_id: number }>): TemplatePiece =>
          x.SpecialToken ? { special: x.SpecialToken.id, typeId: x.SpecialToken.type_id ?? 0 } : { sequence: x.Sequence.id === "B" ? "B" : "A", typeId: x.Sequence.type_id ?? 0 };
        const ids = new Map<string, number[]>();
        for (const [k, v] of Object.entries((o.special_tokens ?? {}) as Record<string, { ids: number[] }>)) ids.set(k, v.ids);
        const single = (o.single as Record<string, { id: string; type_id: number }>[]).map(piece);
        const pair = (o.pair as Record<string, { id: string; type_id: number }>[]).map(piece);
        for (const p of [...single, ...pair]) {
          if (!("special" in p) || ids.has(p.special)) continue;
          const id = lookup(p.special);
          if (id === undefined) throw new ValueError(`${where}: TemplateProcessing uses '${p.special}', which is neither in special_tokens nor in the vocabulary`);
          ids.set(p.special, [id]);
        }
        return new PostProcessor(single, pair, ids, j);
      }
      case "BertProcessing": {
        const [cls, sep] = [pairOf("cls"), pairOf("sep")];
        const ids = new Map([[cls[0], [cls[1]]], [sep[0], [sep[1]]]]);
        return new PostProcessor(parseTemplate(`${cls[0]} $A ${sep[0]}`, where), parseTemplate(`${cls[0]} $A ${sep[0]} $B:1 ${sep[0]}:1`, where), ids, j);
      }
      case "RobertaProcessing": {
        const [cls, sep] = [pairOf("cls"), pairOf("sep")];
        const ids = new Map([[cls[0], [cls[1]]], [sep[0], [sep[1]]]]);
        return new PostProcessor(parseTemplate(`${cls[0]} $A ${sep[0]}`, where), parseTemplate(`${cls[0]} $A ${sep[0]} ${sep[0]} $B ${sep[0]}`, where), ids, j);
      }
      case "Sequence": {
        const parts = ((o.processors ?? []) as unknown[]).map((p) => PostProcessor.fromJSON(p, lookup, where)).filter((p) => p !== null && p.single !== null);
        if (parts.length > 1) throw new ValueError(`${where}: a Sequence post-processor with more than one template is not supported`);
        return parts.length === 1 ? new PostProcessor(parts[0]!.single, parts[0]!.pair, parts[0]!.specialIds, j) : new PostProcessor(null, null, new Map(), j);
      }
      default:
        throw new ValueError(`${where}: post_processor type '${String(o.type)}' is not supported; expected TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel or Sequence`);
    }
  }

  /** The tokenizer.json form: the file's own object when read from one, else a TemplateProcessing. */
  toJSON(): unknown {
    if (this.json !== null) return this.json;
    if (this.single === null) return null;
    const piece = (p: TemplatePiece) => ("special" in p ? { SpecialToken: { id: p.special, type_id: p.typeId } } : { Sequence: { id: p.sequence, type_id: p.typeId } });
    const special: Record<string, unknown> = {};
    for (const [k, ids] of this.specialIds) special[k] = { id: k, ids, tokens: [k] };
    return { type: "TemplateProcessing", single: this.single.map(piece), pair: (this.pair ?? []).map(piece), special_tokens: special };
  }

  /** "[CLS] $A [SEP]" for display. */
  describe(): string {
    return this.single === null ? "$A" : templateString(this.single);
  }

  /** How many special tokens the template adds around one sequence (or a pair). */
  numAdded(pair: boolean): number {
    const t = pair ? this.pair : this.single;
    if (t === null) return 0;
    return t.reduce((n, p) => n + ("special" in p ? this.specialIds.get(p.special)!.length : 0), 0);
  }

  /** The ids of apply(a, b, addSpecial), without the copies when nothing is added. */
  ids(a: number[], b: number[] | null, addSpecial: boolean): number[] {
    if (b === null && (this.single === null || !addSpecial)) return a;
    return this.apply(a, b, addSpecial).ids;
  }

  /** Wraps sequence a (and b) in the template; without special tokens, a gets type 0 and b type 1. */
  apply(a: number[], b: number[] | null, addSpecial: boolean): Processed {
    const t = b === null ? this.single : this.pair;
    const out: Processed = { ids: [], typeIds: [], specialMask: [] };
    const put = (ids: number[], typeId: number, special: number) => {
      for (const id of ids) {
        out.ids.push(id);
        out.typeIds.push(typeId);
        out.specialMask.push(special);
      }
    };
    if (t === null || !addSpecial) {
      const typeOf = (s: "A" | "B", dflt: number) => {
        const p = t?.find((x) => "sequence" in x && x.sequence === s);
        return p ? p.typeId : dflt;
      };
      put(a, typeOf("A", 0), 0);
      if (b !== null) put(b, typeOf("B", 1), 0);
      return out;
    }
    for (const p of t) {
      if ("special" in p) put(this.specialIds.get(p.special)!, p.typeId, 1);
      else put(p.sequence === "A" ? a : b!, p.typeId, 0);
    }
    return out;
  }
}
