import { readFileSync } from 'node:fs';

/**
 * The recorded CouchDB 3.5 answers (test/fixtures/couchdb-conformance/, a copy of
 * ../shared/couchdb-conformance/; its README is the format's specification, refresh-fixture.sh the copy).
 */
export const FIXTURE_DIR = new URL('../../fixtures/couchdb-conformance/', import.meta.url).pathname;

export type Auth = 'none' | { user: string; password: string };
export type Capture = string | { path: string; mask?: boolean };

export interface Expectation {
  status: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  lines?: unknown[];
  bodyBase64?: string;
  heartbeat?: boolean;
}

export interface Step {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  bodyText?: string;
  bodyBase64?: string;
  auth?: Auth;
  capture?: Record<string, Capture>;
  compare?: 'exact' | 'shape' | 'status';
  fields?: string[];
  loose?: string[];
  unordered?: boolean;
  record?: string[];
  lines?: boolean;
  stream?: { ms: number };
  note?: string;
  expect: Expectation;
}

export interface Case {
  name: string;
  area: string;
  title: string;
  db?: boolean;
  db2?: boolean;
  users?: string[];
  setup?: Step[];
  requests: Step[];
}

export function loadCases(file = `${FIXTURE_DIR}cases.jsonl`): Case[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Case);
}

/** A scored request's name in reports and in the list of expected differences: `area/slug#n` (n from 1). */
export function requestId(c: Case, index: number): string {
  return `${c.name}#${index + 1}`;
}
