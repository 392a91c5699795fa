/** `npm run inquiry-diagram`: regenerates docs/inquiry-workflow.md from the transition table. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { inquiryWorkflowMarkdown } from '../src/domain/inquiry-workflow.js';

mkdirSync('docs', { recursive: true });
writeFileSync('docs/inquiry-workflow.md', inquiryWorkflowMarkdown());
console.log('wrote docs/inquiry-workflow.md');
