import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** bench/results/<name>.json: `{ name, date, node, cpus, dataset, baseline, ours, ratio }` (issue 9). */
export interface BenchResult {
  name: string;
  dataset: string;
  baseline: Record<string, unknown> & { label: string };
  ours: Record<string, unknown>;
  /** ours / baseline on the headline figure; what "better" means is in `ratioMeaning`. */
  ratio: number | null;
  /** With more than one baseline: the ratio against each (`ratio` is the headline one). */
  ratios?: Record<string, number | null>;
  ratioMeaning: string;
  quick?: boolean;
  /** Anything else worth keeping (per-size rounds, set-up, machine load); not shown in the table. */
  detail?: Record<string, unknown>;
}

export function writeResult(result: BenchResult): void {
  const { name, ...rest } = result;
  const full = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    ...rest,
  };
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/${result.name}.json`, import.meta.url), `${JSON.stringify(full, null, 2)}\n`);
  console.log(JSON.stringify(full, null, 2));
}

export const quick = process.argv.includes('--quick');
