import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fernet symmetric encryption, in the token format of Python's `cryptography` package, so that the
 * `encrypted_password` the Python `picas-cli init` writes can be read here and the other way round.
 *
 * Key: 32 bytes, url-safe base64 (with `=` padding, 44 characters): the first 16 bytes sign (HMAC-SHA256),
 * the last 16 encrypt (AES-128-CBC).
 * Token (url-safe base64 of): 0x80 | 8-byte big-endian seconds since the epoch | 16-byte IV |
 * AES-128-CBC ciphertext with PKCS#7 padding | 32-byte HMAC-SHA256 of everything before it.
 */

const VERSION = 0x80;
const HEADER_LENGTH = 1 + 8 + 16;
const HMAC_LENGTH = 32;

/** The key file or key text is not a Fernet key. */
export class FernetKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FernetKeyError';
  }
}

/** The token is malformed, or was made with another key, or was changed (the HMAC does not match). */
export class FernetTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FernetTokenError';
  }
}

export interface FernetKey {
  signingKey: Buffer;
  encryptionKey: Buffer;
}

// Keys and tokens are url-safe base64 with padding, as Python writes them. We accept exactly that and
// tolerate only surrounding whitespace (a key file edited by hand may end in a newline).
const URLSAFE_B64 = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeUrlsafeBase64(text: string): Buffer | undefined {
  if (!URLSAFE_B64.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64url');
}

function encodeUrlsafeBase64(data: Buffer): string {
  // Node's base64url drops the padding; Python's urlsafe_b64encode keeps it, and so do we.
  return data.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Parse a key as `Fernet.generate_key()` makes it (surrounding whitespace ignored). */
export function parseFernetKey(text: string | Buffer): FernetKey {
  const trimmed = (typeof text === 'string' ? text : text.toString('latin1')).trim();
  const raw = decodeUrlsafeBase64(trimmed);
  if (!raw || raw.length !== 32) {
    throw new FernetKeyError('not a Fernet key (expected 32 bytes in url-safe base64, 44 characters)');
  }
  return { signingKey: raw.subarray(0, 16), encryptionKey: raw.subarray(16, 32) };
}

/** A new random key, in the same text form as Python's `Fernet.generate_key()`. */
export function generateFernetKey(): string {
  return encodeUrlsafeBase64(randomBytes(32));
}

export interface EncryptOptions {
  /** Seconds since the epoch to stamp into the token (default: now). */
  timestamp?: number;
  /** 16 bytes (default: random). Only tests fix it. */
  iv?: Buffer;
}

export function fernetEncrypt(key: FernetKey | string, plaintext: string | Buffer, options: EncryptOptions = {}): string {
  const k = typeof key === 'string' ? parseFernetKey(key) : key;
  const iv = options.iv ?? randomBytes(16);
  if (iv.length !== 16) throw new RangeError('Fernet IV must be 16 bytes');
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(Math.floor(options.timestamp ?? Date.now() / 1000)), 1);
  iv.copy(header, 9);
  const cipher = createCipheriv('aes-128-cbc', k.encryptionKey, iv);
  const body = Buffer.concat([header, cipher.update(Buffer.from(plaintext)), cipher.final()]);
  const mac = createHmac('sha256', k.signingKey).update(body).digest();
  return encodeUrlsafeBase64(Buffer.concat([body, mac]));
}

export interface DecryptedToken {
  plaintext: Buffer;
  /** Seconds since the epoch when the token was made. */
  timestamp: number;
}

/** Verify and decrypt a token. No time-to-live is applied (as Python's `decrypt(token)` without `ttl`). */
export function fernetDecryptToken(key: FernetKey | string, token: string | Buffer): DecryptedToken {
  const k = typeof key === 'string' ? parseFernetKey(key) : key;
  const text = (typeof token === 'string' ? token : token.toString('latin1')).trim();
  const raw = decodeUrlsafeBase64(text);
  if (!raw || raw.length < HEADER_LENGTH + 16 + HMAC_LENGTH) throw new FernetTokenError('not a Fernet token (bad base64 or too short)');
  if (raw[0] !== VERSION) throw new FernetTokenError(`not a Fernet token (version byte 0x${raw[0]!.toString(16)}, expected 0x80)`);
  const body = raw.subarray(0, raw.length - HMAC_LENGTH);
  const mac = raw.subarray(raw.length - HMAC_LENGTH);
  const expected = createHmac('sha256', k.signingKey).update(body).digest();
  // The HMAC is checked before anything is decrypted: a wrong key or a changed token fails here.
  if (!timingSafeEqual(mac, expected)) throw new FernetTokenError('the token does not match the key (wrong key, or the token was changed)');
  const ciphertext = body.subarray(HEADER_LENGTH);
  if (ciphertext.length % 16 !== 0) throw new FernetTokenError('not a Fernet token (ciphertext is not whole AES blocks)');
  const iv = body.subarray(9, HEADER_LENGTH);
  const decipher = createDecipheriv('aes-128-cbc', k.encryptionKey, iv);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new FernetTokenError('the token decrypts to bad padding');
  }
  return { plaintext, timestamp: Number(body.readBigUInt64BE(1)) };
}

export function fernetDecrypt(key: FernetKey | string, token: string | Buffer): Buffer {
  return fernetDecryptToken(key, token).plaintext;
}
