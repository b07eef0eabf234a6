// Appends COUNT events to STREAM through the built adapter, retrying lost races: one OS process
// of the "two processes append at once" contract test.
import { openEventStore } from '../../dist/src/eventstore/open.js';

const [url, streamId, count, tag] = process.argv.slice(2);
const store = await openEventStore(url);
for (let i = 0; i < Number(count); ) {
  const events = await store.readStream(streamId);
  const expected = events.length ? events.at(-1).revision : 'no_stream';
  try {
    await store.append(streamId, [{ type: 'Tick', data: { tag, i }, metadata: {} }], expected);
    i++;
  } catch (error) {
    if (error.code !== 'concurrency') throw error;
  }
}
await store.close();
