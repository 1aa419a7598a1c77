/**
 * Whether bytes are one JSON text (RFC 8259), as `JSON.parse` of their UTF-8 decoding would accept it,
 * without building anything: Invoke only checks a payload it hands on as it came, and `JSON.parse` of
 * 6 MB of `{},{},…` builds two million objects (about 400 ms of the event loop) to throw them away.
 * One pass over the bytes, an explicit stack for nesting (no depth limit, no recursion).
 *
 * Returns undefined for a JSON text, or what is wrong and where.
 */
export function jsonProblem(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  // 1 for an object, 0 for an array, one per open container.
  const stack: number[] = [];
  let i = 0;
  const ws = () => {
    while (i < n) {
      const c = bytes[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      i++;
    }
  };
  const unexpected = (): string =>
    i >= n ? 'Unexpected end of input' : `Unexpected character ('${String.fromCharCode(bytes[i]!)}' (code ${bytes[i]!})) at position ${i}`;
  const digits = (): number => {
    const start = i;
    while (i < n && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) i++;
    return i - start;
  };
  /** A string from its opening quote; false when it is not one. */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = bytes[i]!;
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = bytes[i + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) if (!isHex(bytes[i + k])) return false;
          i += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) return false;
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  const number = (): boolean => {
    if (bytes[i] === 0x2d) i++;
    if (bytes[i] === 0x30) i++;
    else if (digits() === 0) return false;
    if (bytes[i] === 0x2e) {
      i++;
      if (digits() === 0) return false;
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++;
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
      if (digits() === 0) return false;
    }
    return true;
  };
  const literal = (word: Uint8Array): boolean => {
    for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word[k]) return false;
    i += word.length;
    return true;
  };

  for (;;) {
    // A value.
    ws();
    const c = bytes[i];
    if (c === 0x7b || c === 0x5b) {
      i++;
      ws();
      if (bytes[i] === (c === 0x7b ? 0x7d : 0x5d)) {
        i++;
      } else {
        stack.push(c === 0x7b ? 1 : 0);
        if (c === 0x7b) {
          if (bytes[i] !== 0x22 || !string()) return unexpected();
          ws();
          if (bytes[i] !== 0x3a) return unexpected();
          i++;
        }
        continue;
      }
    } else if (c === 0x22) {
      if (!string()) return unexpected();
    } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      if (!number()) return unexpected();
    } else if (!(c === 0x74 ? literal(TRUE) : c === 0x66 ? literal(FALSE) : c === 0x6e ? literal(NULL) : false)) {
      return unexpected();
    }
    // After a value: the next member or element, or the end of containers.
    for (;;) {
      ws();
      if (stack.length === 0) return i === n ? undefined : unexpected();
      const inObject = stack[stack.length - 1] === 1;
      const d = bytes[i];
      if (d === (inObject ? 0x7d : 0x5d)) {
        stack.pop();
        i++;
        continue;
      }
      if (d !== 0x2c) return unexpected();
      i++;
      if (inObject) {
        ws();
        if (bytes[i] !== 0x22 || !string()) return unexpected();
        ws();
        if (bytes[i] !== 0x3a) return unexpected();
        i++;
      }
      break;
    }
  }
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
/** What may follow a backslash, besides `u`: `"` `\` `/` b f n r t. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
