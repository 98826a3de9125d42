// What a run looks like, read in bounded requests: `picas status`, `show`, `logs`, and the pilot's side of
// them (attempt history, live output while followed, the run summary line).
export { farmStatus, type FarmStatus, type FarmStatusOptions } from './farm-status.js';
export { renderStatus, type RenderOptions } from './render.js';
export { readPilots, cleanupPilots, pilotFromHeartbeat, DEFAULT_PILOT_RETENTION_S, type PilotInfo } from './pilots.js';
export { recentErrors, type ErrorSummary } from './errors.js';
export { completionRate, etaSeconds, type CompletionRate } from './rate.js';
export { expiredLeases, type ExpiredLeases } from './expired.js';
export { listTokens, type TokenListOptions, type TokenPage } from './token-list.js';
export { describeToken } from './token-detail.js';
export { readLogs, type TokenLogs } from './token-logs.js';
export { STATUS_DESIGN } from './design.js';
export { withAttempt, attemptHistory, MAX_HISTORY, type AttemptHistoryEntry, type AttemptOutcome } from './attempt-history.js';
export { followLogs, requestFollow, followRequests, LogPublisher, logDocId, type FollowOptions, type LiveLogDoc } from './log-follow.js';
export { RunSummary, outcomeOf, type RunSummaryOptions } from './run-summary.js';
