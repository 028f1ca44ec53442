// THE REMOVED BASELINE (issue 17): lib/sha256.ts verbatim as of commit c73c24a, before hashing moved
// to @noble/hashes. Only bench/hashing_bench.ts imports it, to measure the new code against the old
// in the same run; nothing in lib/ may.
/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for short messages, with the key's padded
 * blocks hashed once per key. Custom IDs are signed and checked on the interaction hot path; here
 * a MAC costs about a microsecond, against ~15 µs for node:crypto's createHmac in Deno (a stream
 * object per call) and a thread-pool round trip for WebCrypto. Tested against node:crypto.
 */

const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);
const W = new Int32Array(64);

/** One compression of the 64-byte block at `m[off]` into `h`. */
function compress(h: Int32Array, m: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) {
    W[i] = (m[off] << 24) | (m[off + 1] << 16) | (m[off + 2] << 8) | m[off + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
      ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + k) | 0;
}

// Scratch space for padded message tails (the hot path allocates only its result).
const SCRATCH = new Uint8Array(128);
const OUTER = new Uint8Array(64);
const STATE = new Int32Array(8);

/** Absorbs `msg` and its padding into `h`, which has already absorbed `prefixBytes` (× 64). */
function absorbFinal(h: Int32Array, prefixBytes: number, msg: Uint8Array): void {
  const full = msg.length - (msg.length % 64);
  for (let off = 0; off < full; off += 64) compress(h, msg, off);
  const tail = msg.length - full;
  const size = tail + 9 <= 64 ? 64 : 128;
  SCRATCH.fill(0);
  SCRATCH.set(msg.subarray(full));
  SCRATCH[tail] = 0x80;
  // Message length in bits, big-endian, in the last 8 bytes (below 2^53: two 32-bit halves).
  const bits = (prefixBytes + msg.length) * 8;
  const hi = Math.floor(bits / 0x1_0000_0000);
  for (let i = 0; i < 4; i++) {
    SCRATCH[size - 8 + i] = (hi >>> (24 - 8 * i)) & 0xff;
    SCRATCH[size - 4 + i] = (bits >>> (24 - 8 * i)) & 0xff;
  }
  compress(h, SCRATCH, 0);
  if (size === 128) compress(h, SCRATCH, 64);
}

/** Writes the state `h` big-endian into `out` at `off`. */
function digestInto(h: Int32Array, out: Uint8Array, off: number): void {
  for (let i = 0; i < 8; i++, off += 4) {
    const v = h[i];
    out[off] = v >>> 24;
    out[off + 1] = (v >>> 16) & 0xff;
    out[off + 2] = (v >>> 8) & 0xff;
    out[off + 3] = v & 0xff;
  }
}

export function sha256(msg: Uint8Array): Uint8Array {
  STATE.set(IV);
  absorbFinal(STATE, 0, msg);
  const out = new Uint8Array(32);
  digestInto(STATE, out, 0);
  return out;
}

/** HMAC-SHA256 with `key`: returns a function from message to the 32-byte MAC. */
export function hmacSha256(key: Uint8Array): (msg: Uint8Array) => Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = IV.slice();
  const outer = IV.slice();
  const pad = new Uint8Array(64);
  for (let i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  compress(inner, pad, 0);
  for (let i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  compress(outer, pad, 0);
  return (msg) => {
    STATE.set(inner);
    absorbFinal(STATE, 64, msg);
    // The outer hash's only block: the inner digest, then padding for 64 + 32 bytes.
    digestInto(STATE, OUTER, 0);
    OUTER.fill(0, 32);
    OUTER[32] = 0x80;
    OUTER[62] = 0x03; // (64 + 32) * 8 = 768 bits = 0x0300
    STATE.set(outer);
    compress(STATE, OUTER, 0);
    const out = new Uint8Array(32);
    digestInto(STATE, out, 0);
    return out;
  };
}
