// PII detection, redaction and keyed pseudonymization: each type found in its usual written forms,
// near misses (Luhn-failing cards, mod-97-failing IBANs, versions, dates, times) left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { countPii, findPii, ibanValid, luhnValid, pseudonym, pseudonymizePii, redactPii, type PiiType } from "../../src/data/pii.js";

const found = (text: string) => findPii(text).map((m) => [m.type, m.value] as [PiiType, string]);

test("luhn and mod-97 checks on published test numbers", () => {
  assert.equal(luhnValid("4111111111111111"), true); // Visa test number
  assert.equal(luhnValid("5555555555554444"), true); // Mastercard test number
  assert.equal(luhnValid("378282246310005"), true); // Amex test number
  assert.equal(luhnValid("4111111111111112"), false);
  assert.equal(ibanValid("GB82 WEST 1234 5698 7654 32"), true); // the ECBS example IBAN
  assert.equal(ibanValid("DE89370400440532013000"), true);
  assert.equal(ibanValid("GB82 WEST 1234 5698 7654 33"), false);
});

test("e-mail addresses", () => {
  assert.deepEqual(found("mail ann.lee+ml@example.co.uk or BOB@Mail.Example.com."), [
    ["email", "ann.lee+ml@example.co.uk"],
    ["email", "BOB@Mail.Example.com"],
  ]);
  assert.deepEqual(found("not an address: user@localhost, @handle, a@b"), []);
});

test("card numbers: grouped or not, Luhn-checked", () => {
  assert.deepEqual(found("card 4111 1111 1111 1111, 5555-5555-5555-4444 and 378282246310005"), [
    ["card", "4111 1111 1111 1111"],
    ["card", "5555-5555-5555-4444"],
    ["card", "378282246310005"],
  ]);
  // 16 digits that fail Luhn are not a card (nor anything else).
  assert.deepEqual(found("order 4111 1111 1111 1112 and 1234567812345678"), []);
});

test("phone numbers: international and national formats", () => {
  assert.deepEqual(found("call +1 415 555 2671, +44 20 7946 0958, (415) 555-2671, 415-555-2671, 020 7946 0958 or 01 23 45 67 89"), [
    ["phone", "+1 415 555 2671"],
    ["phone", "+44 20 7946 0958"],
    ["phone", "(415) 555-2671"],
    ["phone", "415-555-2671"],
    ["phone", "020 7946 0958"],
    ["phone", "01 23 45 67 89"],
  ]);
  // Dates, times, plain counts and short numbers are not phones.
  assert.deepEqual(found("on 2024-03-15 at 12:30:45 we sold 1500 items, code 12-34, year 01-15-2024"), []);
});

test("IPv4 and IPv6 addresses", () => {
  assert.deepEqual(found("from 192.168.0.1 and 10.0.0.255 via 2001:db8::8a2e:370:7334 and ::1"), [
    ["ipv4", "192.168.0.1"],
    ["ipv4", "10.0.0.255"],
    ["ipv6", "2001:db8::8a2e:370:7334"],
    ["ipv6", "::1"],
  ]);
  assert.deepEqual(found("version 1.2.3.4.5, 256.1.1.1, 999.10.10.10, time 10:20"), []);
});

test("SSN and IBAN", () => {
  assert.deepEqual(found("ssn 123-45-6789; not 000-12-3456 or 666-12-3456; iban GB82 WEST 1234 5698 7654 32"), [
    ["ssn", "123-45-6789"],
    ["iban", "GB82 WEST 1234 5698 7654 32"],
  ]);
  assert.deepEqual(found("GB82 WEST 1234 5698 7654 33"), []);
});

test("redact replaces each span by its type; counts per type", () => {
  const text = "Ann <ann@x.org>, card 4111-1111-1111-1111, ip 10.1.2.3, tel +49 30 1234 5678.";
  assert.equal(redactPii(text), "Ann <[EMAIL]>, card [CARD], ip [IPV4], tel [PHONE].");
  assert.deepEqual(countPii(text + " bob@y.com"), { email: 2, card: 1, ipv4: 1, phone: 1 });
  assert.equal(redactPii(text, ["email"]), "Ann <[EMAIL]>, card 4111-1111-1111-1111, ip 10.1.2.3, tel +49 30 1234 5678.");
});

test("pseudonymize: stable per value and key, format-independent, key-dependent", () => {
  const a = pseudonymizePii("write to Ann@X.org", "k1");
  const b = pseudonymizePii("ann@x.org wrote", "k1");
  const token = /\[EMAIL:[0-9a-f]{12}\]/.exec(a)![0];
  assert.ok(b.startsWith(token), `${a} / ${b}`);
  assert.equal(pseudonym("card", "4111 1111 1111 1111", "k1"), pseudonym("card", "4111-1111-1111-1111", "k1"));
  assert.notEqual(pseudonym("email", "ann@x.org", "k1"), pseudonym("email", "ann@x.org", "k2"));
  assert.notEqual(pseudonym("email", "ann@x.org", "k1"), pseudonym("email", "bob@x.org", "k1"));
  assert.throws(() => pseudonymizePii("x", ""), /key is empty/);
});
