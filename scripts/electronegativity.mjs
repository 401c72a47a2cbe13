// Runs Doyensec's electronegativity (static analysis of Electron apps; it needs no Electron binary) over
// the built main and preload code and the renderer's HTML, and fails on any high-severity finding.
// Its command-line entry breaks against a newer hoisted commander, so it is driven through its API.
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity');
const { version } = JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8'));

// Scan a copy holding exactly what ships as code: out/main, out/preload, and the renderer's index.html.
const target = mkdtempSync(join(tmpdir(), 'electronegativity-'));
cpSync('out/main', join(target, 'main'), { recursive: true });
cpSync('out/preload', join(target, 'preload'), { recursive: true });
cpSync('out/renderer/index.html', join(target, 'renderer/index.html'));
cpSync('package.json', join(target, 'package.json'));

const result = await run({ input: target, isRelative: true, electronVersionOverride: version, customScan: [], excludeFromScan: [] });
const rank = (issue) => issue.severity.value;
const HIGH = require('@doyensec/electronegativity/dist/finder').severity.HIGH.value;
for (const issue of result.issues.sort((a, b) => rank(b) - rank(a))) {
  console.log(
    `${issue.severity.name.padEnd(13)} ${issue.confidence.name.padEnd(10)} ${issue.id}  ${issue.file}:${issue.location.line}  ${issue.manualReview ? '(manual review)' : ''}`,
  );
}
const high = result.issues.filter((i) => rank(i) >= HIGH);
console.log(
  `electronegativity ${version}: ${result.atomicChecks} atomic and ${result.globalChecks} global checks, ${result.issues.length} findings, ${high.length} of high severity`,
);
process.exit(high.length > 0 ? 1 : 0);
