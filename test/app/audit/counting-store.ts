import type { EventStore } from '../../../src/eventstore/port.js';

/**
 * The real store, with a count of the events its reads return (readStream, readAll): how a test
 * checks that a page reads in proportion to what it shows, not to a stream's or the log's length.
 */
export function countingStore<S extends EventStore>(store: S): { store: S; read: { events: number } } {
  const read = { events: 0 };
  const counted = new Proxy(store, {
    get(target, name) {
      if (name === 'readStream' || name === 'readAll')
        return async (...args: unknown[]) => {
          const events = await (target[name] as (...a: unknown[]) => Promise<unknown[]>).apply(target, args);
          read.events += events.length;
          return events;
        };
      const value = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, read };
}
