/** `picas autopilot`: keep pilot jobs submitted while views have work (issue 14). */
export * from './config.js';
export * from './cycle.js';
export * from './resources.js';
export * from './template.js';
export * from './batch.js';
