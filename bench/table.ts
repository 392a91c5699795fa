/** Prints the README's performance table from bench/results/*.json. */
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('./results/', import.meta.url);
const rows = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
console.log('| benchmark | baseline | ours | ratio | date |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const { label, ...baseline } = r.baseline;
  const fmt = (o: Record<string, unknown>) => Object.entries(o).filter(([k]) => k !== 'targets').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
  console.log(`| ${r.name}${r.quick ? ' (quick)' : ''} | ${label}: ${fmt(baseline)} | ${fmt(r.ours)} | ${r.ratios ? Object.entries(r.ratios).map(([k, v]) => `${v ?? '—'} vs ${k}`).join(', ') : r.ratio ?? '—'} (${r.ratioMeaning}) | ${r.date.slice(0, 10)} |`);
}
