import { expect } from 'chai';
import {
  boundString,
  CIRCULAR,
  newValueState,
  toAnyValue,
  TRUNCATED,
  UNREADABLE,
  type ValueLimits,
} from '../../src/mapping/any-value.js';

const LIMITS: ValueLimits = {
  maxDepth: 8,
  maxCollectionSize: 1024,
  maxStringLength: 1_000_000,
  maxValuesPerRecord: 20_000,
};
const convert = (value: unknown, limits: Partial<ValueLimits> = {}) =>
  toAnyValue(value, 0, newValueState({ ...LIMITS, ...limits }));

describe('toAnyValue', () => {
  it('passes strings, numbers, booleans and null', () => {
    expect(convert('a')).to.equal('a');
    expect(convert(1.5)).to.equal(1.5);
    expect(convert(false)).to.equal(false);
    expect(convert(null)).to.equal(null);
  });

  it('drops functions, symbols and undefined', () => {
    expect(convert(() => 1)).to.equal(undefined);
    expect(convert(Symbol('s'))).to.equal(undefined);
    expect(convert(undefined)).to.equal(undefined);
    expect(convert({ a: 1, f: () => 1, s: Symbol('x'), u: undefined })).to.deep.equal({ a: 1 });
  });

  it('keeps list positions: a dropped item becomes null', () => {
    expect(convert([1, () => 1, 'x'])).to.deep.equal([1, null, 'x']);
  });

  it('turns BigInt into a number when safe, else its decimal string', () => {
    expect(convert(42n)).to.equal(42);
    expect(convert(2n ** 64n)).to.equal('18446744073709551616');
    expect(convert(-(2n ** 60n))).to.equal('-1152921504606846976');
  });

  it('turns Dates into ISO strings, and an invalid Date into "Invalid Date"', () => {
    expect(convert(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).to.equal(
      '2024-01-02T03:04:05.006Z',
    );
    expect(convert(new Date(Number.NaN))).to.equal('Invalid Date');
  });

  it('turns Buffer, Uint8Array, ArrayBuffer and DataView into a copy of their bytes', () => {
    const buffer = Buffer.from('hi');
    const converted = convert(buffer) as Uint8Array;
    expect(converted).to.be.instanceOf(Uint8Array);
    expect([...converted]).to.deep.equal([104, 105]);
    buffer[0] = 0;
    expect(converted[0], 'a copy, not a view of a reusable buffer').to.equal(104);
    expect([...(convert(new Uint8Array([1, 2])) as Uint8Array)]).to.deep.equal([1, 2]);
    expect([...(convert(new Uint8Array([3, 4]).buffer) as Uint8Array)]).to.deep.equal([3, 4]);
    expect([...(convert(new DataView(new Uint8Array([5]).buffer)) as Uint8Array)]).to.deep.equal([
      5,
    ]);
  });

  it('turns other typed arrays into lists of numbers', () => {
    expect(convert(new Float64Array([1.5, 2]))).to.deep.equal([1.5, 2]);
    expect(convert(new BigInt64Array([3n]))).to.deep.equal([3]);
  });

  it('turns a Map into a map with string keys and a Set into a list', () => {
    expect(
      convert(
        new Map<unknown, unknown>([
          ['a', 1],
          [2, 'b'],
        ]),
      ),
    ).to.deep.equal({ a: 1, '2': 'b' });
    expect(convert(new Set([1, 'x']))).to.deep.equal([1, 'x']);
  });

  it('turns a class instance into its own enumerable fields', () => {
    class Order {
      id = 7;
      items = ['a'];
      get total(): number {
        return 3;
      }
      describe(): string {
        return 'order';
      }
    }
    expect(convert(new Order())).to.deep.equal({ id: 7, items: ['a'] });
  });

  it('turns a field-less object into its JSON or string form (URL)', () => {
    expect(convert(new URL('https://example.test/a?b=1'))).to.equal('https://example.test/a?b=1');
    expect(convert(/ab+c/i)).to.equal('/ab+c/i');
  });

  it('turns an empty null-prototype object into an empty map, with no failure', () => {
    const state = newValueState(LIMITS);
    expect(toAnyValue(Object.create(null), 0, state)).to.deep.equal({});
    expect(state.failure).to.equal(undefined);
  });

  it('keeps nested structure as maps and lists', () => {
    expect(convert({ a: { b: [1, { c: true }] } })).to.deep.equal({ a: { b: [1, { c: true }] } });
  });

  it('turns an Error into a map of its name, message, stack, code, cause and own fields', () => {
    const error = Object.assign(new TypeError('bad', { cause: 'root' }), {
      code: 'E_BAD',
      status: 400,
    });
    const converted = convert(error) as Record<string, unknown>;
    expect(converted).to.include({
      name: 'TypeError',
      message: 'bad',
      code: 'E_BAD',
      cause: 'root',
      status: 400,
    });
    expect(converted.stack)
      .to.be.a('string')
      .and.match(/^TypeError: bad/);
  });

  it('marks a cycle "[Circular]" but repeats a shared, non-circular object', () => {
    const shared = { s: 1 };
    const value: Record<string, unknown> = { a: shared, b: shared };
    value.self = value;
    expect(convert(value)).to.deep.equal({ a: { s: 1 }, b: { s: 1 }, self: CIRCULAR });
    const list: unknown[] = [1];
    list.push(list);
    expect(convert(list)).to.deep.equal([1, CIRCULAR]);
  });

  it('bounds depth', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    let converted = convert(deep, { maxDepth: 3 }) as Record<string, unknown>;
    expect(converted.next).to.deep.equal({ next: { next: '[Object]' } });
    converted = convert({ a: [[[[1]]]] }, { maxDepth: 3 }) as Record<string, unknown>;
    expect(converted).to.deep.equal({ a: [['[Array]']] });
  });

  it('bounds entries per collection and values per record', () => {
    expect(
      convert(
        Array.from({ length: 10 }, (_, i) => i),
        { maxCollectionSize: 3 },
      ),
    ).to.deep.equal([0, 1, 2]);
    const wide = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, { i }]));
    const converted = convert(wide, { maxValuesPerRecord: 4 }) as Record<string, unknown>;
    expect(Object.values(converted).filter((v) => v === TRUNCATED)).to.have.length(7);
  });

  it('truncates strings and keeps them well-formed', () => {
    expect(convert('abcdef', { maxStringLength: 3 })).to.equal('abc');
    // Cutting "a😀" after one code unit of the emoji would leave a lone surrogate.
    expect(boundString('a😀', 2)).to.equal('a\uFFFD');
    expect(convert('x\uD800y')).to.equal('x\uFFFDy');
    expect(convert('\uDC00')).to.equal('\uFFFD');
  });

  it('replaces what a throwing getter or Proxy trap hides with "[Unreadable]" and notes the failure', () => {
    const state = newValueState(LIMITS);
    const hostile = {
      ok: 1,
      get bad(): never {
        throw new Error('getter exploded');
      },
    };
    expect(toAnyValue(hostile, 0, state)).to.deep.equal({ ok: 1, bad: UNREADABLE });
    expect(String(state.failure)).to.match(/getter exploded/);

    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys for you');
        },
      },
    );
    expect(convert({ trap })).to.deep.equal({ trap: UNREADABLE });
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    expect(convert([revocable.proxy])).to.deep.equal([UNREADABLE]);
  });
});
