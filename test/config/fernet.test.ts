import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FernetKeyError, FernetTokenError, fernetDecrypt, fernetDecryptToken, fernetEncrypt, generateFernetKey, parseFernetKey,
} from '../../src/config/fernet.js';
import { FERNET_TOOL, pythonSkipReason, runPython } from './python.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/fernet-python.json', import.meta.url), 'utf8')) as {
  key: string; token: string; plaintext: string;
};

const fromUrlsafe = (s: string) => Buffer.from(s, 'base64url');
const toUrlsafe = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

test('decrypts a token made by python3-cryptography (committed fixture)', () => {
  assert.equal(fernetDecrypt(fixture.key, fixture.token).toString('utf8'), fixture.plaintext);
});

test('encrypting with the fixture token\'s time and IV gives the same token byte for byte', () => {
  const raw = fromUrlsafe(fixture.token);
  const timestamp = Number(raw.readBigUInt64BE(1));
  const iv = raw.subarray(9, 25);
  assert.equal(fernetEncrypt(fixture.key, fixture.plaintext, { timestamp, iv }), fixture.token);
  assert.equal(fernetDecryptToken(fixture.key, fixture.token).timestamp, timestamp);
});

test('decrypts a token built with the openssl command line (AES-128-CBC + HMAC-SHA256)', () => {
  const keyRaw = randomBytes(32);
  const signing = keyRaw.subarray(0, 16);
  const encryption = keyRaw.subarray(16);
  const iv = randomBytes(16);
  const plaintext = `openssl-made ${randomBytes(5).toString('hex')} ✓`;
  const dir = mkdtempSync(join(tmpdir(), 'picas-fernet-'));
  try {
    const ciphertext = execFileSync('openssl', ['enc', '-aes-128-cbc', '-K', encryption.toString('hex'), '-iv', iv.toString('hex')], { input: plaintext });
    const header = Buffer.alloc(25);
    header[0] = 0x80;
    header.writeBigUInt64BE(BigInt(1_700_000_000), 1);
    iv.copy(header, 9);
    const body = Buffer.concat([header, ciphertext]);
    writeFileSync(join(dir, 'body'), body);
    const mac = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${signing.toString('hex')}`, '-binary', join(dir, 'body')]);
    assert.equal(mac.length, 32);
    const token = toUrlsafe(Buffer.concat([body, mac]));
    const decrypted = fernetDecryptToken(toUrlsafe(keyRaw), token);
    assert.equal(decrypted.plaintext.toString('utf8'), plaintext);
    assert.equal(decrypted.timestamp, 1_700_000_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live: python3-cryptography and picas read each other\'s tokens', (t) => {
  const skip = pythonSkipReason();
  if (skip) { t.skip(skip); return; }
  for (let i = 0; i < 3; i++) {
    const key = i === 0 ? runPython(FERNET_TOOL, ['genkey']).stdout : generateFernetKey();
    const plaintext = `pw-${i}-${randomBytes(6).toString('base64')} ünïcode :#'"`;
    const fromPython = runPython(FERNET_TOOL, ['encrypt', key], plaintext);
    assert.equal(fromPython.status, 0, fromPython.stderr);
    assert.equal(fernetDecrypt(key, fromPython.stdout).toString('utf8'), plaintext);
    const ours = fernetEncrypt(key, plaintext);
    const back = runPython(FERNET_TOOL, ['decrypt', key], ours);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.stdout, plaintext);
  }
});

test('live: python3-cryptography rejects our token when one byte is changed', (t) => {
  const skip = pythonSkipReason();
  if (skip) { t.skip(skip); return; }
  const key = generateFernetKey();
  const raw = fromUrlsafe(fernetEncrypt(key, 'secret'));
  raw[30] = raw[30]! ^ 0x01;
  const r = runPython(FERNET_TOOL, ['decrypt', key], toUrlsafe(raw));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /InvalidToken/);
});

test('a changed ciphertext, HMAC, version or a wrong key is rejected', () => {
  const key = generateFernetKey();
  const raw = fromUrlsafe(fernetEncrypt(key, 'the password'));
  for (const at of [0, 5, 12, 30, raw.length - 40, raw.length - 1]) {
    const changed = Buffer.from(raw);
    changed[at] = changed[at]! ^ 0x80;
    assert.throws(() => fernetDecrypt(key, toUrlsafe(changed)), FernetTokenError, `byte ${at}`);
  }
  assert.throws(() => fernetDecrypt(generateFernetKey(), toUrlsafe(raw)), /does not match the key/);
  assert.throws(() => fernetDecrypt(key, toUrlsafe(raw.subarray(0, 60))), FernetTokenError);
  assert.throws(() => fernetDecrypt(key, 'not base64 at all!'), /not a Fernet token/);
  // The fixture with our key: the HMAC check fails before anything is decrypted.
  assert.throws(() => fernetDecrypt(key, fixture.token), /does not match the key/);
});

test('keys: generated keys have Python\'s form; malformed keys are refused', () => {
  const key = generateFernetKey();
  assert.match(key, /^[A-Za-z0-9_-]{43}=$/);
  assert.equal(parseFernetKey(`${key}\n`).signingKey.length, 16);
  assert.throws(() => parseFernetKey('c2hvcnQ='), FernetKeyError);
  // Standard base64 ('+', '/') is not the url-safe alphabet Python's Fernet writes.
  assert.throws(() => parseFernetKey(`+/${key.slice(2)}`), FernetKeyError);
  assert.throws(() => parseFernetKey(''), FernetKeyError);
  assert.throws(() => parseFernetKey(`${key.slice(0, 20)} ${key.slice(21)}`), FernetKeyError);
});
