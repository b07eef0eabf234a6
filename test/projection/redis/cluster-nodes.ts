import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sparePort } from '../../koa/redis-server.js';

const running = new Set<ChildProcess>();
// A worker that ends (or dies of a hook timeout) must not leave its servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(port: number): Promise<boolean> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Servers started from `redis-server` on spare ports, in a temp dir; `stop` kills them all. */
class PrivateServers {
  readonly dir = mkdtempSync(join(tmpdir(), 'tl-redis-topology-'));
  private readonly children = new Map<number, ChildProcess>();

  protected async spawn(port: number, args: string[]): Promise<void> {
    const child = spawn('redis-server', args, { stdio: 'ignore', cwd: this.dir });
    child.once('error', () => {});
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.children.set(port, child);
    for (let i = 0; i < 300 && !(await ping(port)); i++) await sleep(10);
    if (!(await ping(port))) throw new Error(`redis-server did not start on port ${port} (is redis-server installed?)`);
  }

  /** SIGSTOP: the server keeps its connections and answers nothing, like a hung node. */
  pause(port: number): void {
    this.children.get(port)?.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.children.get(port)?.kill('SIGCONT');
  }

  /** Kills every server (SIGKILL) and removes the temp dir, even after a failure half-way. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    this.children.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A private Redis Cluster of `masters` masters and no replicas, created with `redis-cli --cluster create`. */
export class PrivateCluster extends PrivateServers {
  readonly ports: number[] = [];

  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  static async start(masters = 3): Promise<PrivateCluster> {
    const cluster = new PrivateCluster();
    try {
      await cluster.create(masters);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private async create(masters: number): Promise<void> {
    for (let i = 0; i < masters; i++) {
      // The bus port is given too: port + 10000 (the default) may be taken, or past 65535.
      const [port, bus] = [await sparePort(), await sparePort()];
      this.ports.push(port);
      await this.spawn(port, [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(bus),
        '--cluster-config-file', join(this.dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      ]);
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of this.ports) {
      const redis = new Redis({ port, host: '127.0.0.1' });
      try {
        for (let i = 0; i < 500 && !(await redis.cluster('INFO')).includes('cluster_state:ok'); i++) await sleep(20);
        if (!(await redis.cluster('INFO')).includes('cluster_state:ok')) throw new Error(`cluster node ${port} never reached cluster_state:ok`);
      } finally {
        redis.disconnect();
      }
    }
  }

  /** Calls of one command per node (executed, failed, or refused with a redirect), from INFO commandstats. */
  async calls(command: string): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const port of this.ports) {
      const redis = new Redis({ port, host: '127.0.0.1' });
      const line = (await redis.info('commandstats')).split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:`)) ?? '';
      redis.disconnect();
      const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0);
      counts.set(port, field('calls') + field('rejected_calls') + field('failed_calls'));
    }
    return counts;
  }

  /** The port of the master that serves the slot of `key`. */
  async ownerOf(key: string): Promise<number> {
    const redis = new Redis({ port: this.ports[0]!, host: '127.0.0.1' });
    try {
      const slot = Number(await redis.cluster('KEYSLOT', key));
      const range = (await redis.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
      if (!range?.[2]) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      redis.disconnect();
    }
  }
}

/** One master, one replica of it, and one Sentinel watching them as `mymaster` (quorum 1). */
export class PrivateSentinel extends PrivateServers {
  masterPort = 0;
  replicaPort = 0;
  sentinelPort = 0;

  get url(): string {
    return `redis+sentinel://127.0.0.1:${this.sentinelPort}/mymaster`;
  }

  static async start(): Promise<PrivateSentinel> {
    const servers = new PrivateSentinel();
    try {
      servers.masterPort = await sparePort();
      await servers.spawn(servers.masterPort, ['--port', String(servers.masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      servers.replicaPort = await sparePort();
      await servers.spawn(servers.replicaPort, [
        '--port', String(servers.replicaPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--replicaof', '127.0.0.1', String(servers.masterPort),
      ]);
      // The sentinel learns of the replica from the master's INFO: the link must be up first.
      const master = new Redis({ port: servers.masterPort, host: '127.0.0.1' });
      try {
        for (let i = 0; i < 300 && !/connected_slaves:1/.test(await master.info('replication')); i++) await sleep(10);
      } finally {
        master.disconnect();
      }
      servers.sentinelPort = await sparePort();
      // A sentinel rewrites its config file, so it gets one of its own.
      const conf = join(servers.dir, 'sentinel.conf');
      writeFileSync(conf, `port ${servers.sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${servers.masterPort} 1\n`);
      await servers.spawn(servers.sentinelPort, [conf, '--sentinel']);
      // Until the sentinel has seen the replica up and linked, a failover has nobody to promote.
      const sentinel = new Redis({ port: servers.sentinelPort, host: '127.0.0.1' });
      try {
        const known = async () =>
          ((await sentinel.call('SENTINEL', 'REPLICAS', 'mymaster')) as string[][]).some((fields) => {
            const field = (name: string) => fields[fields.indexOf(name) + 1];
            return field('flags') === 'slave' && field('master-link-status') === 'ok';
          });
        for (let i = 0; i < 500 && !(await known()); i++) await sleep(20);
      } finally {
        sentinel.disconnect();
      }
      return servers;
    } catch (error) {
      await servers.stop();
      throw error;
    }
  }
}
