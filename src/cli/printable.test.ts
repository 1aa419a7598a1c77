import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from './printable.js';

describe('printable', () => {
  it('escapes what would steer a terminal and keeps tabs, line ends and every other character', () => {
    const hostile = '\x1b[31mRED\x1b[0m \x1b]8;;javascript:alert(1)\x1b\\click\x1b]8;;\x1b\\ \u202eevil\r\x07\x9b2J';
    assert.equal(
      printable(hostile),
      '\\x1b[31mRED\\x1b[0m \\x1b]8;;javascript:alert(1)\\x1b\\click\\x1b]8;;\\x1b\\ \\u202eevil\\x0d\\x07\\x9b2J',
    );
    assert.equal(printable('a\tb\nc 日本 é ✓'), 'a\tb\nc 日本 é ✓');
  });
});
