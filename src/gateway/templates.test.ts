import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeJavaScript } from './templates.js';

describe('$util.escapeJavaScript', () => {
  it("escapes as API Gateway's does: quotes, backslash and slash, named control characters, the rest of non-printable-ASCII as \\uXXXX", () => {
    assert.equal(escapeJavaScript(`it's "a/b" \\ done`), `it\\'s \\"a\\/b\\" \\\\ done`);
    assert.equal(escapeJavaScript('a\nb\r\tc\b\f'), 'a\\nb\\r\\tc\\b\\f');
    assert.equal(escapeJavaScript('\u0000\u001b\u007f é 日'), '\\u0000\\u001B\\u007F \\u00E9 \\u65E5');
    assert.equal(escapeJavaScript('😀'), '\\uD83D\\uDE00');
    // Whatever a caller sends, what it makes inside a JSON string parses (once `\'` is turned back, as AWS's docs say to).
    const hostile = 'x"}\r\n\u0001\u2028{"y":"';
    assert.equal(JSON.parse(`"${escapeJavaScript(hostile).replace(/\\'/g, "'")}"`), hostile);
  });
});
