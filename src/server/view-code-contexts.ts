import vm from 'node:vm';
import { encodeEmits } from './icu-collation.js';

/**
 * PouchDB runs each map and reduce function by building a source text with the function and its
 * arguments and running it in a brand-new V8 context (`vm.runInNewContext`), once per document per view.
 * A context costs about a millisecond and hundreds of kilobytes until the GC finds it: building the five
 * Monitor views over 1,000 tokens took 8.6 s and 476 MB, and it grows from there (2 GB+ seen at 100,000).
 *
 * This compiles each function once, in a context of its own that is then reused (as CouchDB's couchjs
 * reuses its JavaScript process), and passes each call's arguments as JSON parsed inside that context, so
 * the code still sees only objects of its own realm. It recognises PouchDB's source text exactly (its
 * fixed head and tail around the function and the JSON arguments); anything else, or anything it cannot
 * take apart with certainty, goes to Node's `runInNewContext` unchanged.
 */
const MARK = 'var __result__ = (';
const TAIL = ');return {result: __result__, emitteds: __emitteds__};})()';
const HEAD = '(function() {"use strict";';
const MAX_FUNCTIONS = 200;

type Call = (args: string, count: number) => unknown;

const compiled = new Map<string, Call>();
let installed = false;

/**
 * Also the one place where map functions' emits pass by: their keys are put in ICU order here
 * (icu-collation.ts), whichever way the function ran.
 */
export function installSharedViewContexts(): void {
  if (installed) return;
  installed = true;
  const original = vm.runInNewContext.bind(vm);
  (vm as { runInNewContext: typeof vm.runInNewContext }).runInNewContext = function (code: any, ...rest: any[]) {
    const pouchCall = rest.length === 0 && typeof code === 'string' && code.startsWith(HEAD) && code.endsWith(TAIL);
    if (pouchCall) {
      const fast = tryShared(code);
      if (fast !== NOT_MINE) { encodeEmits((fast as { emitteds?: unknown })?.emitteds); return fast; }
    }
    const out = (original as any)(code, ...rest);
    if (pouchCall) encodeEmits(out?.emitteds);
    return out;
  } as typeof vm.runInNewContext;
}

const NOT_MINE = Symbol('not mine');

function tryShared(code: string): unknown {
  const at = code.indexOf(MARK);
  if (at < 0) return NOT_MINE;
  const helpers = code.slice(HEAD.length, at);
  const middle = code.slice(at + MARK.length, code.length - TAIL.length);
  for (const [key, call] of compiled) {
    if (middle.startsWith(key)) return runArgs(call, middle.slice(key.length));
  }
  // First sight of this function: find where it ends and its arguments begin.
  for (let p = middle.indexOf(')('); p >= 0; p = middle.indexOf(')(', p + 1)) {
    const fn = middle.slice(0, p);
    const args = middle.slice(p + 2);
    if (!argsParse(args)) continue;
    let call: Call;
    try {
      call = compile(helpers, fn);
    } catch {
      continue;
    }
    if (compiled.size >= MAX_FUNCTIONS) compiled.delete(compiled.keys().next().value!);
    compiled.set(`${fn})(`, call);
    return runArgs(call, args);
  }
  return NOT_MINE;
}

/** Split off PouchDB's trailing `,undefined` arguments; the rest is a comma-joined list of JSON values. */
function splitArgs(args: string): { json: string; count: number } {
  let json = args;
  let missing = 0;
  while (json.endsWith(',undefined')) { json = json.slice(0, -',undefined'.length); missing++; }
  if (json === 'undefined') return { json: '', count: 0 };
  return { json, count: 3 - missing };
}

function argsParse(args: string): boolean {
  const { json, count } = splitArgs(args);
  try {
    const parsed = JSON.parse(`[${json}]`);
    return Array.isArray(parsed) && parsed.length === count;
  } catch {
    return false;
  }
}

function runArgs(call: Call, args: string): unknown {
  const { json, count } = splitArgs(args);
  return call(json, count);
}

function compile(helpers: string, fn: string): Call {
  const context = vm.createContext({});
  const source = `"use strict";${helpers}
var __fn__ = (${fn});
(function (json, count) {
  __emitteds__ = [];
  var a = JSON.parse('[' + json + ']');
  if (a.length !== count) throw new Error('argument count');
  var result = __fn__(a[0], a[1], a[2]);
  return { result: result, emitteds: __emitteds__ };
})`;
  return new vm.Script(source).runInContext(context) as Call;
}
