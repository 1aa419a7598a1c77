import { Worker } from 'node:worker_threads';
import { PlatformError } from '../core/errors.js';
import { Turns } from '../core/turns.js';
import { TemplateError } from './template-values.js';
import type { JsonObject } from '../domain/stack.js';

/**
 * What template parsing may use: each parse's worker its heap and real time; at most `workers` of them
 * at once (so at most that many times the heap), and at most `waiting` parses queued behind them.
 */
export const TEMPLATE_PARSE_LIMITS = { heapMb: 128, timeoutMs: 10_000, workers: 2, waiting: 8 };

const parses = new Turns(
  TEMPLATE_PARSE_LIMITS.workers,
  TEMPLATE_PARSE_LIMITS.waiting,
  () => new PlatformError('Throttling', 'Rate exceeded'),
);

/**
 * parseTemplate in a worker thread, so that a large or hostile template (a megabyte of YAML takes about
 * a second to compose) never holds up the server's event loop, and its memory is capped: a parse that
 * runs out of heap or time is refused as a TemplateError, and the worker is gone either way. Parses take
 * turns (TEMPLATE_PARSE_LIMITS.workers at once): a flood of them (ValidateTemplate, which functions may
 * call) would otherwise start a thread and its heap for each. Past the queue, CloudFormation's throttle.
 */
export function parseTemplateIsolated(text: string): Promise<JsonObject> {
  return parses.run(() => parseInWorker(text));
}

function parseInWorker(text: string): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./template-worker.js', import.meta.url), {
      workerData: text,
      resourceLimits: { maxOldGenerationSizeMb: TEMPLATE_PARSE_LIMITS.heapMb, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const settle = (work: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      work();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new TemplateError([`Template could not be read within ${TEMPLATE_PARSE_LIMITS.timeoutMs / 1000} seconds; Versa refuses it.`]),
          ),
        ),
      TEMPLATE_PARSE_LIMITS.timeoutMs,
    );
    worker.on('message', (m: { template?: JsonObject; problems?: string[]; failed?: string }) =>
      settle(() => {
        if (m.template) resolve(m.template);
        else if (m.problems) reject(new TemplateError(m.problems));
        else reject(new Error(`template parse failed: ${m.failed ?? 'unknown'}`));
      }),
    );
    worker.on('error', (err: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new TemplateError([`Template needs more than ${TEMPLATE_PARSE_LIMITS.heapMb} MB to read; Versa refuses it.`])
            : err,
        ),
      ),
    );
    worker.on('exit', () => settle(() => reject(new Error('the template parser stopped without an answer'))));
  });
}
