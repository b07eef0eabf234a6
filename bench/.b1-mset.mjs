import { Redis } from 'ioredis';
const value = 'x'.repeat(200);
const kv = []; for (let i = 0; i < 36000; i++) kv.push(`g1:t:${i.toString(16).padStart(64, '0')}`, value);
for (const protocol of [3, 2, 3, 2]) {
  const r = new Redis('redis://127.0.0.1:6379', { keyPrefix: 'bench:probe6:', protocol });
  await r.ping();
  const times = [];
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    const p = r.pipeline();
    for (let i = 0; i < kv.length; i += 400) p.mset(...kv.slice(i, i + 400));
    await p.exec();
    times.push((performance.now() - t).toFixed(0));
  }
  console.log('protocol', protocol, times.join(' '), 'ms');
  r.disconnect();
}
const r3 = new Redis('redis://127.0.0.1:6379');
for (const k of await r3.keys('bench:probe6:*')) await r3.unlink(k);
r3.disconnect();
