import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewLogEvent } from '../../domain/log.js';
import { seededRandom } from '../../core/random.js';
import { packEvents, unpackEvents } from './log-batch.js';

test('a packed batch unpacks to the same events in the same order, whatever the messages hold', () => {
  const rng = seededRandom(7);
  const random = () => rng.next();
  const pieces = ['', 'START RequestId: 1\n', '\u0000', '😀', '\ud800', 'é', 'x'.repeat(300), '\n\t', '[', '"'];
  const names = [
    ['/aws/lambda/a', 's1'],
    ['/aws/lambda/a', 's2'],
    ['/aws/lambda/b', 's1'],
    ['s1', '/aws/lambda/a'],
  ] as const;
  for (let round = 0; round < 200; round++) {
    const events: NewLogEvent[] = [];
    const count = Math.floor(random() * 40);
    for (let i = 0; i < count; i++) {
      const [groupName, streamName] = names[Math.floor(random() * names.length)]!;
      let message = '';
      for (let k = Math.floor(random() * 4); k > 0; k--) message += pieces[Math.floor(random() * pieces.length)];
      events.push({
        groupName,
        streamName,
        message,
        timestamp: 1_765_000_000_000 + Math.floor(random() * 1e6),
        ingestionTime: 2 ** 52 - i,
      });
    }
    assert.deepEqual(unpackEvents(packEvents(events)), events);
  }
});

test('a stream is named once however many of its events the batch holds', () => {
  const events = Array.from({ length: 1000 }, (_, i) => ({
    groupName: 'g',
    streamName: `s${i % 3}`,
    message: 'm',
    timestamp: i,
    ingestionTime: i,
  }));
  assert.deepEqual(packEvents(events).streams, ['g', 's0', 'g', 's1', 'g', 's2']);
});
