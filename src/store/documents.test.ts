import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readDocument, StoreCorrupt } from './documents.js';

it('readDocument: an object comes back as written; anything else is refused as corrupt, naming what was read', () => {
  assert.deepEqual(readDocument('{"name":"f","n":1}'), { name: 'f', n: 1 });
  for (const text of ['', '{"name":', 'null', '[1]', '"text"', '42']) {
    assert.throws(
      () => readDocument(text, 'function f'),
      (err: Error) => err instanceof StoreCorrupt && /^function f is not/.test(err.message),
    );
  }
});
