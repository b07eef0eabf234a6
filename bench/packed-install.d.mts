export function sizeOf(dir: string): number;
export function packagesBySize(modules: string): [name: string, bytes: number][];
export function installPacked(dir: string): { tarball: string; bytes: number; diskBytes: number; packages: [name: string, bytes: number][] };
export function addPackages(dir: string, ...specs: string[]): void;
export function diskUsage(dir: string): number;
