#!/usr/bin/env node
// Regenerates docs/configuration.md from the settings table. Run after `pnpm build`.
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from '../dist/src/config-docs.js';

const target = new URL('../../../docs/configuration.md', import.meta.url);
writeFileSync(target, renderConfigurationDoc());
console.log(`wrote ${target.pathname}`);
