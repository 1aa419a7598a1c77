/** Runs in a worker thread (see parseTemplateIsolated): parses one template and posts the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { parseTemplate, TemplateError } from './template.js';

try {
  parentPort!.postMessage({ template: parseTemplate(workerData as string) });
} catch (err) {
  parentPort!.postMessage(err instanceof TemplateError ? { problems: err.problems } : { failed: String(err) });
}
