import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Fails fast, with the command that fixes it, when a service the suite needs is missing. */
export default async function setup(): Promise<void> {
  if (!existsSync('dist/src/index.js')) throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  if (!(await reachable(6379))) {
    throw new Error('Redis is not running on 127.0.0.1:6379: start it with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`');
  }
  if (!(await reachable(5432))) {
    throw new Error('PostgreSQL is not running on 127.0.0.1:5432: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`');
  }
}
