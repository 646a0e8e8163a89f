// PII in text: e-mail addresses, phone numbers, payment card numbers (Luhn-checked), IPv4 and IPv6
// addresses, US social security numbers and IBANs (mod-97-checked). Found spans can be counted,
// redacted (`[EMAIL]`) or pseudonymized with a keyed HMAC-SHA256 (`[EMAIL:3f9a1c2b7d4e]`, the same
// token for the same value under the same key). See docs/data-governance.md for the rules.
import { createHmac } from "node:crypto";
import { isIPv6 } from "node:net";
import { ValueError } from "../tensor/index.js";

export type PiiType = "email" | "phone" | "card" | "ipv4" | "ipv6" | "ssn" | "iban";

/** Every type, in the order overlapping matches are resolved (an earlier type wins a contested span). */
export const PII_TYPES: readonly PiiType[] = ["email", "iban", "card", "ssn", "ipv6", "ipv4", "phone"];

export interface PiiMatch {
  type: PiiType;
  /** The text found, as written. */
  value: string;
  /** UTF-16 offsets in the text: [start, end). */
  start: number;
  end: number;
}

/** True when the digits pass the Luhn checksum (ISO/IEC 7812-1). */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** True when an IBAN (spaces allowed) has a plausible shape and passes the ISO 13616 mod-97 check. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= "A" ? String(ch.charCodeAt(0) - 55) : ch; // A = 10 … Z = 35
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** A US SSN shape AAA-GG-SSSS with the never-issued ranges excluded (area 000, 666, 9xx; group 00; serial 0000). */
function ssnValid(s: string): boolean {
  const [a, g, n] = s.split("-");
  return a !== "000" && a !== "666" && a[0] !== "9" && g !== "00" && n !== "0000";
}

const digitsOf = (s: string) => s.replace(/\D/g, "");

interface Rule {
  type: PiiType;
  re: RegExp;
  valid?: (m: string) => boolean;
}

// Each pattern is anchored by lookarounds so that it never starts or ends inside a longer token.
const RULES: Rule[] = [
  { type: "email", re: /(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])/g },
  { type: "iban", re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g, valid: ibanValid },
  // 13–19 digits, unbroken or in groups (4-4-4-4, 4-6-5, 4-4-4-4-3) split by one space or hyphen.
  { type: "card", re: /(?<![\d-])(?:\d{13,19}|\d{4}(?:[ -]\d{3,6}){2,4})(?![\d]|-\d)/g, valid: (m) => digitsOf(m).length >= 13 && digitsOf(m).length <= 19 && luhnValid(digitsOf(m)) },
  { type: "ssn", re: /(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d]|-\d)/g, valid: ssnValid },
  { type: "ipv6", re: /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Za-z:])/g, valid: (m) => /[0-9A-Fa-f]/.test(m) && isIPv6(m) },
  { type: "ipv4", re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g },
  // International (E.164: '+', 8–15 digits in groups), North American ((555) 123-4567, 555-123-4567,
  // 555.123.4567) and national trunk-0 numbers in groups (020 7946 0958, 01 23 45 67 89, 030-1234-5678).
  {
    type: "phone",
    re: /(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}([.-])\d{3}\1\d{4}|0[1-9]\d{0,3}(?:[ .-]\d{2,4}){2,4})(?![\w])/g,
    valid: (m) => {
      const n = digitsOf(m).length;
      return m.startsWith("+") ? n >= 8 && n <= 15 : n >= 9 && n <= 12;
    },
  },
];

/**
 * Every PII span in the text, in order of position. Where spans of two types overlap, the type
 * earlier in PII_TYPES wins (an IBAN's digits are not also a card, a card is not also a phone).
 * @param types only these types (default all)
 */
export function findPii(text: string, types: readonly PiiType[] = PII_TYPES): PiiMatch[] {
  for (const t of types) if (!PII_TYPES.includes(t)) throw new ValueError(`findPii: unknown PII type '${t}'; the types are ${PII_TYPES.join(", ")}`);
  const taken: PiiMatch[] = [];
  if (!/[\d@:]/.test(text)) return taken; // every pattern needs a digit, an '@' or a ':'
  const covered = new Uint8Array(text.length); // characters inside an accepted match
  for (const type of PII_TYPES) {
    if (!types.includes(type)) continue;
    const rule = RULES.find((r) => r.type === type)!;
    for (const m of text.matchAll(rule.re)) {
      const start = m.index!;
      const end = start + m[0].length;
      if (rule.valid && !rule.valid(m[0])) continue;
      if (covered.subarray(start, end).includes(1)) continue;
      covered.fill(1, start, end);
      taken.push({ type, value: m[0], start, end });
    }
  }
  return taken.sort((a, b) => a.start - b.start);
}

/** Counts per type of the PII found in the text (types with none are left out). */
export function countPii(text: string, types?: readonly PiiType[]): Partial<Record<PiiType, number>> {
  const out: Partial<Record<PiiType, number>> = {};
  for (const m of findPii(text, types)) out[m.type] = (out[m.type] ?? 0) + 1;
  return out;
}

/** The canonical form a value is keyed on: e-mails lower-cased, numbers as their digits, IPv6 lower-cased. */
function canonical(m: PiiMatch): string {
  if (m.type === "email" || m.type === "ipv6") return m.value.toLowerCase();
  if (m.type === "iban") return m.value.replace(/ /g, "").toUpperCase();
  if (m.type === "phone") return (m.value.startsWith("+") ? "+" : "") + digitsOf(m.value);
  if (m.type === "card" || m.type === "ssn") return digitsOf(m.value);
  return m.value;
}

function replaceSpans(text: string, matches: PiiMatch[], token: (m: PiiMatch) => string): string {
  let out = "";
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + token(m);
    at = m.end;
  }
  return out + text.slice(at);
}

/** The text with every PII span replaced by its type in brackets: `[EMAIL]`, `[PHONE]`, `[CARD]`, `[IPV4]`, `[IPV6]`, `[SSN]`, `[IBAN]`. */
export function redactPii(text: string, types?: readonly PiiType[]): string {
  return replaceSpans(text, findPii(text, types), (m) => `[${m.type.toUpperCase()}]`);
}

/** The pseudonym of one value: `[TYPE:` + the first 12 hex digits of HMAC-SHA256(key, "type:canonical value") + `]`. */
export function pseudonym(type: PiiType, value: string, key: string | Uint8Array): string {
  const m = { type, value, start: 0, end: value.length };
  return `[${type.toUpperCase()}:${createHmac("sha256", key).update(`${type}:${canonical(m)}`).digest("hex").slice(0, 12)}]`;
}

/**
 * The text with every PII span replaced by a keyed pseudonym: the same value (in any of its written
 * forms: `Ann@X.org` and `ann@x.org`, `4111 1111 1111 1111` and `4111-1111-1111-1111`) always gets
 * the same token under the same key, so joins and counts survive, while the value cannot be
 * recovered without the key (HMAC-SHA256, RFC 2104).
 */
export function pseudonymizePii(text: string, key: string | Uint8Array, types?: readonly PiiType[]): string {
  if (key === undefined || key === null || key.length === 0) throw new ValueError("pseudonymizePii: the key is empty; pass a secret key (keep it: the same key gives the same tokens)");
  return replaceSpans(text, findPii(text, types), (m) => pseudonym(m.type, m.value, key));
}
