import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBudget, sourceOf } from './body-budget.js';

describe('BodyBudget', () => {
  it('holds every request to the total, guests together to their share, and each guest to its own', () => {
    const budget = new BodyBudget({ total: 100, guests: 50, perGuest: 30 });
    assert.equal(budget.take('function:a', 30), true);
    assert.equal(budget.take('function:a', 1), false, "a's own share is full");
    assert.equal(budget.take('function:b', 20), true);
    assert.equal(budget.take('', 1), false, "the guests' share is full");
    assert.equal(budget.take(undefined, 50), true, 'the operator has the rest');
    assert.equal(budget.take(undefined, 1), false, 'the total is full');
    budget.give('function:a', 30);
    assert.equal(budget.take('function:c', 30), true, "what a gave back is another guest's");
    budget.give(undefined, 0);
    budget.give('function:b', 20);
    budget.give('function:c', 30);
    budget.give(undefined, 50);
    assert.equal(budget.take(undefined, 100), true, 'everything given back is whole again');
  });
});

describe('BodyBudget: stalled bodies give way', () => {
  const KiB = 1024;
  const setup = () => {
    let now = 0;
    const budget = new BodyBudget({ total: 4000 * KiB, guests: 2000 * KiB, perGuest: 1000 * KiB }, () => now);
    const shed: string[] = [];
    const open = (name: string, guest: string | undefined) => budget.holder(guest, () => shed.push(name));
    return { budget, shed, open, at: (ms: number) => (now = ms) };
  };

  it("a body left hanging is shed, slowest first, when its guest's share is full; the newcomer gets the room", () => {
    const { budget, shed, open, at } = setup();
    const hanging = open('hanging', '');
    const trickling = open('trickling', '');
    assert.equal(budget.take('', 600 * KiB, hanging), true);
    assert.equal(budget.take('', 300 * KiB, trickling), true);
    at(1500);
    assert.equal(budget.take('', 1, trickling), true, 'a byte now and then is still a stall');
    at(2600);
    const fresh = open('fresh', '');
    assert.equal(budget.take('', 200 * KiB, fresh), true);
    assert.deepEqual(shed, ['hanging'], 'the one that brought nothing lately goes first, and only as much as needed');
    budget.release(hanging);
    assert.equal(budget.take('', 500 * KiB, fresh), true, 'its bytes were given back once, not twice');
  });

  it('a body still coming at a fair pace, or in its first second, or whole, or an operator’s, is never shed', () => {
    const { budget, shed, open, at } = setup();
    const steady = open('steady', '');
    const whole = open('whole', '');
    const operator = open('operator', undefined);
    assert.equal(budget.take('', 300 * KiB, whole), true);
    budget.complete(whole);
    for (let t = 0; t <= 3000; t += 250) {
      at(t);
      assert.equal(budget.take('', 25 * KiB, steady), true);
    }
    assert.equal(budget.take(undefined, 2000 * KiB, operator), true);
    at(2900);
    // Opened a tenth of a second ago with 1 KiB: slow, but it has not had its second yet.
    assert.equal(budget.take('', 1 * KiB, open('young', '')), true);
    at(3000);
    assert.equal(budget.take('', 500 * KiB, open('newcomer', '')), false, 'nothing to shed: refused');
    assert.deepEqual(shed, []);
  });

  it("another guest's stalled body gives way only to the guests' common share, not to a guest's own", () => {
    const { budget, shed, open, at } = setup();
    assert.equal(budget.take('function:a', 1000 * KiB, open('a', 'function:a')), true);
    assert.equal(budget.take('function:b', 900 * KiB, open('b', 'function:b')), true);
    at(5000);
    assert.equal(budget.take('function:b', 200 * KiB, open('b2', 'function:b')), true, "b's own stalled body makes room in b's share");
    assert.deepEqual(shed, ['b']);
    assert.equal(budget.take('function:c', 900 * KiB, open('c', 'function:c')), true, "the guests' share is full: a's stalled body goes");
    assert.deepEqual(shed, ['b', 'a']);
  });
});

describe('BodyBudget: sources', () => {
  it("holds each source's bodies to its share within the guest's, so one source cannot fill the guest's share", () => {
    const budget = new BodyBudget({ total: 1000, guests: 500, perGuest: 100, perSource: 30 });
    const from = (source: string) => budget.holder('', () => undefined, source);
    const a1 = from('10.0.0.1');
    const a2 = from('10.0.0.1');
    assert.equal(budget.take('', 20, a1), true);
    assert.equal(budget.take('', 10, a2), true);
    assert.equal(budget.take('', 1, a2), false, "the source's share is full");
    assert.equal(budget.take('', 30, from('10.0.0.2')), true, 'another source still has room');
    assert.equal(budget.take('', 30, from('10.0.0.3')), true);
    // The guest's share is full: a source that would hold more than each other does gets no room.
    assert.equal(budget.take('', 31, from('10.0.0.4')), false, "the guest's share is full all the same");
    budget.release(a1);
    budget.release(a2);
    assert.equal(budget.take('', 30, from('10.0.0.1')), true, 'what a body gave back is its source’s again');
    // An operator's body, or one without a source, counts toward no source.
    assert.equal(budget.holder(undefined, () => undefined, 'x').source, undefined);
    assert.equal(
      budget.take(
        '',
        10,
        budget.holder('', () => undefined),
      ),
      true,
    );
  });

  it('sources that fill the share give way to one that would hold less: the heaviest, newest body first; an operator never', () => {
    let now = 0;
    const budget = new BodyBudget({ total: 1000, guests: 500, perGuest: 100, perSource: 40 }, () => now);
    const shed: string[] = [];
    // Each body opened a moment after the one before, all still coming (none is stalled).
    const open = (name: string, source: string) => budget.holder('', (why) => shed.push(`${name} ${why}`), source);
    const take = (bytes: number, h: ReturnType<typeof open>) => {
      now += 10;
      return budget.take('', bytes, h);
    };
    assert.equal(take(40, open('a1', 'a')), true);
    assert.equal(take(20, open('b1', 'b')), true);
    assert.equal(take(20, open('b2', 'b')), true);
    assert.equal(take(20, open('c1', 'c')), true);
    // Full (100). A newcomer that would hold 10 gets it from a heaviest source (a and b hold 40), its newest body.
    assert.equal(take(10, open('d1', 'd')), true);
    assert.deepEqual(shed, ['b2 crowding']);
    // d would hold 30: a still holds more.
    assert.equal(take(20, open('d2', 'd')), true);
    assert.deepEqual(shed, ['b2 crowding', 'a1 crowding']);
    assert.equal(take(30, open('e1', 'e')), true, 'room was left: nobody gives way');
    assert.deepEqual(shed, ['b2 crowding', 'a1 crowding']);
    // f would hold 25: d and e hold 30 each; e's body is the newest.
    assert.equal(take(25, open('f1', 'f')), true);
    assert.deepEqual(shed, ['b2 crowding', 'a1 crowding', 'e1 crowding']);
    assert.equal(take(40, open('g1', 'g')), false, 'g would hold 40, more than anyone does: nobody gives way');
    assert.deepEqual(shed, ['b2 crowding', 'a1 crowding', 'e1 crowding']);
    // An operator's body is never shed, and takes no guest's room.
    assert.equal(
      budget.take(
        undefined,
        10,
        budget.holder(undefined, (why) => shed.push(`operator ${why}`)),
      ),
      true,
    );
    assert.equal(shed.length, 3);
  });

  it("a source's stalled body gives way only to the same source's", () => {
    let now = 0;
    const budget = new BodyBudget({ total: 1000, guests: 500, perGuest: 100, perSource: 30 }, () => now);
    const shed: string[] = [];
    const open = (name: string, source: string) => budget.holder('', () => shed.push(name), source);
    assert.equal(budget.take('', 30, open('a-stalled', 'a')), true);
    assert.equal(budget.take('', 30, open('b-stalled', 'b')), true);
    now = 3000;
    assert.equal(budget.take('', 20, open('a-new', 'a')), true);
    assert.deepEqual(shed, ['a-stalled']);
  });
});

describe('sourceOf', () => {
  it('is an IPv4 address as it is, and an IPv6 address its /64', () => {
    assert.equal(sourceOf('127.0.0.2'), '127.0.0.2');
    assert.equal(sourceOf('::ffff:10.1.2.3'), '::ffff:10.1.2.3');
    assert.equal(sourceOf('2001:db8:0:1::5'), '2001:db8:0:1::/64');
    assert.equal(sourceOf('2001:db8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
    assert.equal(sourceOf('2001:DB8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceOf('::1'), '0:0:0:0::/64');
    assert.equal(sourceOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});
