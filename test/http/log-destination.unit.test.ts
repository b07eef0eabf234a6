import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnBufferedDestination } from '../../src/http/log-destination.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-logdest-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('TurnBufferedDestination', () => {
  it('writes the lines of a turn together at its end, in order, multi-byte text intact', async () => {
    const path = join(tempDir(), 'log');
    const fd = openSync(path, 'a');
    const destination = new TurnBufferedDestination(fd);
    destination.write('{"n":1,"msg":"é"}\n');
    destination.write('{"n":2,"msg":"日本"}\n');
    expect(readFileSync(path, 'utf8')).toBe('');
    await turn();
    expect(readFileSync(path, 'utf8')).toBe('{"n":1,"msg":"é"}\n{"n":2,"msg":"日本"}\n');
    destination.write('{"n":3}\n');
    destination.flushSync();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    closeSync(fd);
  });

  it('keeps what a full non-blocking pipe refuses (EAGAIN) and delivers every byte, in order, once it drains', async () => {
    const fifo = join(tempDir(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const destination = new TurnBufferedDestination(writer);
    // Far more than a pipe holds (64 KiB), with multi-byte characters across write boundaries.
    const lines = Array.from({ length: 4_000 }, (_, i) => `{"n":${i},"msg":"${'ü'.repeat(30)}"}\n`);
    for (const line of lines) destination.write(line);
    await turn();
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(65_536);
    const expected = Buffer.byteLength(lines.join(''));
    let received = 0;
    for (let tries = 0; received < expected && tries < 2_000; tries++) {
      let n = 0;
      try {
        n = readSync(reader, buffer);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      if (n > 0) {
        chunks.push(Buffer.from(buffer.subarray(0, n)));
        received += n;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.join(''));
    closeSync(writer);
    closeSync(reader);
  });
});
