// Runs Shopify Theme Check on the theme app extension(s) and prints the offenses as JSON.
// Exit status: 1 when any offense has severity "error" (0), else 0. Used by
// tests/unit/test_storefront_extension.py; `npm run theme-check` runs it by hand.
//   node theme-check.mjs [extension folder ...]   (default: stock-status)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from '@shopify/theme-check-node';

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['stock-status'];
const SEVERITY = ['error', 'warning', 'info'];
let errors = 0;
const out = [];
for (const root of roots) {
  const offenses = await check(path.resolve(here, root));
  for (const o of offenses) {
    if (o.severity === 0) errors += 1;
    out.push({
      extension: root, check: o.check, severity: SEVERITY[o.severity] ?? String(o.severity),
      file: path.relative(here, fileURLToPath(o.uri)), line: (o.start?.line ?? 0) + 1, message: o.message,
    });
  }
}
console.log(JSON.stringify({ errors, offenses: out }, null, 2));
process.exit(errors ? 1 : 0);
