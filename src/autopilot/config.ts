import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { templatePlaceholders } from './template.js';
import { parseMemoryMB, parseWalltimeSeconds, ResourceFieldError } from './resources.js';

/** One view the autopilot keeps pilots submitted for. */
export interface AutopilotView {
  /** Design document whose view the pilots claim from, e.g. `SingleCore`, `MultiCore`, `Monitor`. */
  design: string;
  /** The view (default `todo`). */
  view?: string;
  /** Most of this view's pilot jobs pending or running at once. */
  maxJobs: number;
  /** Defaults for what a pilot asks for when the view's tokens do not say (fields cores, memory, walltime). */
  cores?: number;
  memory?: string;
  walltime?: string;
  /** Name of the jobs, by which the query recognises them (default `picas-{database}-{design}`). */
  jobName?: string;
  /** Submit command template (default: sbatch of the pilot script); see template.ts for placeholders. */
  submit?: string;
  /** Query command template listing this view's jobs as `<id> <state>` lines (default: squeue). */
  query?: string;
  /** Job states the query prints for a pilot not started yet (default DEFAULT_PENDING_STATES). */
  pendingStates?: string[];
  /** The pilot job script of the default submit command (default: the shipped picas-array.sh). */
  script?: string;
  /** Extra sbatch options of the default submit command, e.g. `--account=...`, `--partition=...`. */
  sbatchArgs?: string[];
  /** Extra `picas run` options for the pilots of the default submit command. */
  pilotArgs?: string[];
}

export const DEFAULT_JOB_NAME = 'picas-{database}-{design}';
/** Most jobs of one view in flight when the configuration does not say. */
export const DEFAULT_MAX_JOBS = 10;

export class AutopilotConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'AutopilotConfigError'; }
}

/** The file's keys (snake_case, as in conf.yml) and the AutopilotView fields they set. */
const KEYS: Record<string, keyof AutopilotView> = {
  design: 'design', view: 'view', max_jobs: 'maxJobs', cores: 'cores', memory: 'memory', walltime: 'walltime',
  job_name: 'jobName', submit: 'submit', query: 'query', pending_states: 'pendingStates', script: 'script',
  sbatch_args: 'sbatchArgs', pilot_args: 'pilotArgs',
};

/** Check one view's settings; every problem is one line naming the view and the setting. */
export function validateView(v: Partial<AutopilotView>, where: string): AutopilotView {
  const fail = (msg: string): never => { throw new AutopilotConfigError(`${where}: ${msg}`); };
  if (typeof v.design !== 'string' || !v.design) fail('design (the design document, e.g. SingleCore) is missing');
  if (v.view !== undefined && (typeof v.view !== 'string' || !v.view)) fail('view must be a view name such as todo');
  if (v.maxJobs === undefined) v.maxJobs = DEFAULT_MAX_JOBS;
  if (typeof v.maxJobs !== 'number' || !Number.isInteger(v.maxJobs) || v.maxJobs < 0) fail(`max_jobs must be a whole number >= 0, not ${JSON.stringify(v.maxJobs)}`);
  if (v.cores !== undefined && (!Number.isInteger(v.cores) || v.cores < 1)) fail(`cores must be a whole number >= 1, not ${JSON.stringify(v.cores)}`);
  for (const k of ['memory', 'walltime', 'jobName', 'submit', 'query', 'script'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string' && typeof v[k] !== 'number') fail(`${k} must be a string`);
    if (v[k] !== undefined) (v as Record<string, unknown>)[k] = String(v[k]);
  }
  for (const k of ['pendingStates', 'sbatchArgs', 'pilotArgs'] as const) {
    const list = v[k];
    if (list !== undefined && (!Array.isArray(list) || list.some((x) => typeof x !== 'string' && typeof x !== 'number'))) fail(`${k} must be a list of strings`);
    if (list !== undefined) (v as Record<string, unknown>)[k] = list.map(String);
  }
  try {
    if (v.memory !== undefined) parseMemoryMB(v.memory, where);
    if (v.walltime !== undefined) parseWalltimeSeconds(v.walltime, where);
  } catch (err) {
    if (err instanceof ResourceFieldError) throw new AutopilotConfigError(err.message);
    throw err;
  }
  if (v.submit) templatePlaceholders(v.submit, `${where}: submit`);
  if (v.query) templatePlaceholders(v.query, `${where}: query`);
  if (v.jobName && /[{}]/.test(v.jobName.replace(/\{database\}|\{design\}/g, ''))) fail('job_name may use only {database} and {design}');
  return v as AutopilotView;
}

/**
 * Parse an autopilot configuration (YAML or JSON):
 *
 *     max_jobs: 10                 # settings at the top apply to every view
 *     sbatch_args: [--partition=rome]
 *     views:
 *       - design: SingleCore
 *       - design: MultiCore
 *         max_jobs: 4
 *         memory: 8G
 */
export function parseAutopilotConfig(text: string, file = 'the autopilot configuration'): AutopilotView[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new AutopilotConfigError(`${file}: not valid YAML or JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AutopilotConfigError(`${file}: expected a mapping with a views list`);
  const toView = (raw: Record<string, unknown>, where: string): Partial<AutopilotView> => {
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(raw)) {
      if (k === 'views' && where === file) continue;
      const field = KEYS[k];
      if (!field) throw new AutopilotConfigError(`${where}: unknown setting ${JSON.stringify(k)}; known: ${Object.keys(KEYS).join(', ')}`);
      out[field] = value;
    }
    return out as Partial<AutopilotView>;
  };
  const top = doc as Record<string, unknown>;
  const shared = toView(top, file);
  if (!Array.isArray(top.views) || top.views.length === 0) throw new AutopilotConfigError(`${file}: views must be a list of at least one view (e.g. - design: SingleCore)`);
  return top.views.map((raw: unknown, i: number) => {
    const where = `${file}: views[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AutopilotConfigError(`${where}: expected a mapping such as {design: SingleCore, max_jobs: 4}`);
    return validateView({ ...shared, ...toView(raw as Record<string, unknown>, where) }, where);
  });
}

export function loadAutopilotConfig(file: string): AutopilotView[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AutopilotConfigError(`cannot read the autopilot configuration ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseAutopilotConfig(text, file);
}
