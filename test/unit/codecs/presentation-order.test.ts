// Presentation places from POCs in decode order: ranks within a period, periods one after another.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PresentationOrder, REORDER_WINDOW } from '../../../src/codecs/presentation-order.js';

describe('PresentationOrder', () => {
  it('ranks by POC within a period; a new period starts after the last one', () => {
    const order = new PresentationOrder();
    const pocs: Array<[number, boolean]> = [
      [0, true],
      [6, false],
      [2, false],
      [4, false],
      [0, true],
      [4, false],
      [2, false],
    ];
    const indices = pocs.map(([poc, newPeriod]) => order.add({ poc, newPeriod }));
    order.endPeriod();
    assert.deepEqual(
      indices.map((i) => order.take(i)),
      [0, 3, 1, 2, 4, 6, 5],
    );
  });

  it('an access unit without a picture order takes the next place on its own', () => {
    const order = new PresentationOrder();
    const a = order.add(null);
    const b = order.add({ poc: 0, newPeriod: true });
    const c = order.add({ poc: 2, newPeriod: false });
    const d = order.add(null);
    order.endPeriod();
    assert.deepEqual(
      [a, b, c, d].map((i) => order.take(i)),
      [0, 1, 2, 3],
    );
  });

  it('places are known after REORDER_WINDOW more pictures, without the period ending', () => {
    const order = new PresentationOrder();
    order.add({ poc: 0, newPeriod: true });
    for (let i = 1; i < REORDER_WINDOW; i++) order.add({ poc: i, newPeriod: false });
    assert.equal(order.known(0), false);
    order.add({ poc: REORDER_WINDOW, newPeriod: false });
    assert.equal(order.take(0), 0);
  });
});
