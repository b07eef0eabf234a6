#!/usr/bin/env node
// Subpath import: the package index would also load oclif's semver check and more (startup time).
import { execute } from '@oclif/core/execute';

await execute({ dir: import.meta.url });
