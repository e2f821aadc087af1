// Reads the report of an Autobahn|Testsuite fuzzingclient run (index.json) and holds it to the
// bar of this project: every case OK or INFORMATIONAL (none NON-STRICT, UNIMPLEMENTED or FAILED),
// every closing behaviour OK (INFORMATIONAL only in the cases that are informational themselves),
// and a result for every case that was planned.
//
//   node scripts/autobahn/check-report.mjs REPORT_DIR --agent NAME [--expected N]
//
// Prints counts, the cases that fall short with the suite's own explanation, and last the line
//   autobahn: OK=n NON-STRICT=n INFORMATIONAL=n UNIMPLEMENTED=n FAILED=n
// Exit status: 0 when the bar is met, 1 when it is not, 2 without a usable report.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const BEHAVIOURS = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { agent: { type: 'string' }, expected: { type: 'string' } },
});
const dir = positionals[0];
if (!dir || !values.agent) {
  console.error('usage: check-report.mjs REPORT_DIR --agent NAME [--expected N]');
  process.exit(2);
}

function noReport(why) {
  console.log(`autobahn: ERROR ${why}`);
  process.exit(2);
}

let index;
try {
  index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
} catch (err) {
  noReport(`no report in ${dir} (${err.message})`);
}
const cases = index[values.agent];
if (!cases || Object.keys(cases).length === 0) noReport(`no result for agent ${values.agent}`);

// "9.10.2" sorts after "9.2.1".
const byCaseId = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return 0;
};

// The suite's own words for a case, from its per-case report.
function explain(entry) {
  try {
    const detail = JSON.parse(fs.readFileSync(path.join(dir, entry.reportfile), 'utf8'));
    return [detail.result, detail.resultClose].filter(Boolean).join(' | ').replace(/\s+/g, ' ').slice(0, 240);
  } catch {
    return '';
  }
}

const counts = Object.fromEntries(BEHAVIOURS.map((b) => [b, 0]));
const shortfalls = [];
const informational = [];
for (const id of Object.keys(cases).sort(byCaseId)) {
  const { behavior, behaviorClose } = cases[id];
  counts[behavior] = (counts[behavior] ?? 0) + 1;
  if (behavior === 'INFORMATIONAL') informational.push(id);
  const caseOk = behavior === 'OK' || behavior === 'INFORMATIONAL';
  const closeOk = behaviorClose === 'OK' || (behavior === 'INFORMATIONAL' && behaviorClose === 'INFORMATIONAL');
  if (!caseOk || !closeOk) shortfalls.push(`  ${id}: ${behavior}, closing ${behaviorClose}. ${explain(cases[id])}`);
}

const total = Object.keys(cases).length;
console.log(`Autobahn|Testsuite fuzzingclient, agent ${values.agent}: ${total} cases (report: ${path.join(dir, 'index.html')})`);
for (const b of BEHAVIOURS) console.log(`  ${b.padEnd(14)} ${String(counts[b]).padStart(4)}`);
for (const other of Object.keys(counts).filter((b) => !BEHAVIOURS.includes(b))) console.log(`  ${other.padEnd(14)} ${counts[other]}`);
if (informational.length > 0) console.log(`informational: ${informational.join(' ')}`);
let met = shortfalls.length === 0;
if (shortfalls.length > 0) console.log(`below the bar (${shortfalls.length}):\n${shortfalls.join('\n')}`);
const expected = values.expected === undefined ? undefined : Number(values.expected);
if (expected !== undefined && total !== expected) {
  met = false;
  console.log(`only ${total} of ${expected} planned cases have a result (did the server stop mid-run?)`);
}
console.log(`autobahn: ${BEHAVIOURS.map((b) => `${b}=${counts[b]}`).join(' ')}`);
process.exit(met ? 0 : 1);
