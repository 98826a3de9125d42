/** Snakemake through picas: one token per cluster job (submit), its state as Snakemake's status, cancel. */
export { jobProperties, type JobProperties } from './jobscript.js';
export { snakemakeToken, submitToken, type SnakemakeToken, type SnakemakeRecord } from './submit.js';
export { snakemakeJobStatus, type SnakemakeJobStatus, type JobStatusAnswer } from './status.js';
export { cancelToken, CANCELLED_MESSAGE, type CancelOutcome, type CancelRecord } from './cancel.js';
