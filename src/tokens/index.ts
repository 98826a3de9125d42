export * from './token.js';
export * from './state.js';
export * from './job-ids.js';
export * from './operations.js';
export * from './design.js';
export * from './status.js';
export * from './picas-record.js';
