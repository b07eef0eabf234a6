import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * M6 of the 2026-11-30 review: the compose file published an insecure KurrentDB (no TLS, no
 * authentication, AtomPub on) on every host interface, and ran Redis without a password. Checked on
 * the configuration `docker-compose config` resolves (the real tool; skipped only where it is
 * not installed: `apt-get install -y docker-compose`).
 */
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
const SECRETS = { KURRENTDB_ADMIN_PASSWORD: 'kdb-Secret-1', REDIS_PASSWORD: 'redis-Secret-2' };

interface Service {
  ports?: { published?: number | string; target?: number; host_ip?: string }[] | string[];
  environment?: Record<string, string>;
  command?: string[] | string;
  volumes?: unknown[];
}

const resolved = new Map<string, { services: Record<string, Service> }>();

/** The resolved configuration of `files`, as JSON (docker-compose v1 prints YAML; its own Python reads it). Once per set. */
function config(files: string[]): { services: Record<string, Service> } {
  const key = files.join(' ');
  if (!resolved.has(key)) resolved.set(key, resolve(files));
  return resolved.get(key)!;
}

function resolve(files: string[], env: Record<string, string> = SECRETS): { services: Record<string, Service> } {
  const yaml = execFileSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], {
    env: { PATH: process.env.PATH!, ...env },
    encoding: 'utf8',
  });
  const json = execFileSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' });
  return JSON.parse(json);
}

/** Host addresses a service is published on ('' = every interface). */
function published(service: Service): string[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'string') return port.split(':').length > 2 ? port.split(':')[0]! : '';
    return port.host_ip ?? '';
  });
}

describe.skipIf(!hasCompose)('docker-compose.yml', () => {
  it('is valid (docker-compose config -q) and refuses to start without the passwords', () => {
    expect(spawnSync('docker-compose', ['config', '-q'], { env: { PATH: process.env.PATH!, ...SECRETS } }).status).toBe(0);
    const missing = spawnSync('docker-compose', ['config', '-q'], { env: { PATH: process.env.PATH! }, encoding: 'utf8' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/set (KURRENTDB_ADMIN_PASSWORD|REDIS_PASSWORD)/);
  });

  it('publishes neither KurrentDB nor Redis, and the API only on 127.0.0.1', () => {
    const { services } = config(['docker-compose.yml']);
    expect(services.kurrentdb!.ports ?? []).toEqual([]);
    expect(services.redis!.ports ?? []).toEqual([]);
    for (const name of ['api-1', 'api-2']) expect(published(services[name]!)).toEqual(['127.0.0.1']);
    for (const [name, service] of Object.entries(services)) {
      for (const address of published(service)) expect(address, `${name} is published on every interface`).toBe('127.0.0.1');
    }
  });

  it('runs KurrentDB with TLS and credentials (no AtomPub), Redis with a password, and tokenledger uses both', () => {
    const { services } = config(['docker-compose.yml']);
    const kurrent = services.kurrentdb!.environment!;
    expect(kurrent.KURRENTDB_INSECURE ?? 'false').not.toBe('true');
    expect(kurrent.KURRENTDB_ENABLE_ATOM_PUB_OVER_HTTP ?? 'false').not.toBe('true');
    expect(kurrent.KURRENTDB_CERTIFICATE_FILE).toBeTruthy();
    expect(kurrent.KURRENTDB_CERTIFICATE_PRIVATE_KEY_FILE).toBeTruthy();
    expect(kurrent.KURRENTDB_DEFAULT_ADMIN_PASSWORD).toBe(SECRETS.KURRENTDB_ADMIN_PASSWORD);
    expect(JSON.stringify(services.redis!.command)).toContain('--requirepass');
    expect(services.redis!.environment!.REDIS_PASSWORD).toBe(SECRETS.REDIS_PASSWORD);
    for (const name of ['api-1', 'api-2', 'projector']) {
      const env = services[name]!.environment!;
      expect(env.TOKENLEDGER_STORE).toMatch(/^kurrentdb:\/\/admin:kdb-Secret-1@kurrentdb:2113\?tls=true&tlsCAFile=/);
      expect(env.TOKENLEDGER_REDIS_URL).toBe('redis://:redis-Secret-2@redis:6379');
    }
  });

  it('the insecure variant exists only as a development override, and even it publishes on 127.0.0.1 only', () => {
    const { services } = config(['docker-compose.yml', 'scripts/compose/insecure-dev.yml']);
    expect(services.kurrentdb!.environment!.KURRENTDB_INSECURE).toBe('true');
    expect(published(services.kurrentdb!)).toEqual(['127.0.0.1']);
    expect(published(services.redis!)).toEqual(['127.0.0.1']);
    expect(services['api-1']!.environment!.TOKENLEDGER_STORE).toBe('kurrentdb://kurrentdb:2113?tls=false');
  });
});
