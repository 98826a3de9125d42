export * from './select.js';
export * from './age.js';
export * from './bulk-change.js';
export * from './reset.js';
export * from './delete.js';
export * from './export.js';
export * from './users.js';
export * from './log-handler.js';
