import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBudget } from './body-budget.js';

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
