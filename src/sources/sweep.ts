import { SourceError } from './errors.js';
import type { SourceRecord } from './record.js';

/** One named list of values: `q=0.100,0.184` */
export interface SweepParameter {
  name: string;
  values: string[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Parse `name=v1,v2,...` specs. Values stay text as written ("0.100" keeps its zeros: it is what the
 * command line will see). Names must be plain identifiers so they work as `{name}` placeholders.
 */
export function parseSweep(specs: string[]): SweepParameter[] {
  if (specs.length === 0) throw new SourceError('--sweep', 'give at least one parameter, e.g. --sweep q=0.100,0.184 d=256,2280');
  const seen = new Set<string>();
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq < 0) throw new SourceError(`--sweep ${JSON.stringify(spec)}`, 'expected name=value1,value2,... (e.g. q=0.100,0.184)');
    const name = spec.slice(0, eq).trim();
    const where = `--sweep ${JSON.stringify(spec)}`;
    if (!NAME.test(name)) throw new SourceError(where, `parameter name ${JSON.stringify(name)} must start with a letter and hold only letters, digits and _`);
    if (name === 'input' || name === 'type') throw new SourceError(where, `"${name}" is a token field picas sets itself; choose another parameter name (use --input for the command)`);
    if (seen.has(name)) throw new SourceError(where, `parameter "${name}" is given twice; list all its values in one spec`);
    seen.add(name);
    const values = spec.slice(eq + 1).split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new SourceError(where, `parameter "${name}" has an empty value (check for a doubled or trailing comma)`);
    return { name, values };
  });
}

/** How many tokens the sweep makes: the product of the list lengths. */
export function sweepSize(params: SweepParameter[]): number {
  return params.reduce((n, p) => n * p.values.length, 1);
}

/**
 * Render an input template: `{name}` is the parameter's value, `{{`/`}}` literal braces. Checked up
 * front against the parameter names, so a typo fails before anything is pushed.
 */
export function compileTemplate(template: string, names: string[]): (values: Record<string, string>) => string {
  const pieces: ({ text: string } | { name: string })[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) { text += c; i++; continue; }
    if (c === '}') throw new SourceError('--input', `stray "}" in ${JSON.stringify(template)}; write "}}" for a literal brace`);
    if (c === '{') {
      const close = template.indexOf('}', i + 1);
      const name = close < 0 ? '' : template.slice(i + 1, close);
      if (close < 0 || name === '') throw new SourceError('--input', `unclosed or empty {placeholder} in ${JSON.stringify(template)}`);
      if (!names.includes(name)) {
        throw new SourceError('--input', `{${name}} is not a sweep parameter (parameters: ${names.join(', ')})`);
      }
      if (text) { pieces.push({ text }); text = ''; }
      pieces.push({ name });
      i = close;
      continue;
    }
    text += c;
  }
  if (text) pieces.push({ text });
  return (values) => pieces.map((p) => ('text' in p ? p.text : values[p.name]!)).join('');
}

/**
 * The cartesian product of the parameter lists, the first parameter varying slowest (like nested loops
 * written in the order given). Each token gets one field per parameter and an `input`: the template
 * filled in, or `name=value` pairs joined by spaces.
 */
export function* sweepRecords(params: SweepParameter[], inputTemplate?: string): Generator<SourceRecord> {
  const render = inputTemplate !== undefined ? compileTemplate(inputTemplate, params.map((p) => p.name)) : undefined;
  const total = sweepSize(params);
  const index = params.map(() => 0);
  for (let n = 0; n < total; n++) {
    const values: Record<string, string> = {};
    params.forEach((p, i) => { values[p.name] = p.values[index[i]!]!; });
    const input = render ? render(values) : params.map((p) => `${p.name}=${values[p.name]}`).join(' ');
    yield { fields: { ...values, input }, where: `sweep combination ${n + 1} (${params.map((p) => `${p.name}=${values[p.name]}`).join(' ')})` };
    // Odometer: advance the last parameter, carrying into earlier ones.
    for (let i = params.length - 1; i >= 0; i--) {
      index[i]!++;
      if (index[i]! < params[i]!.values.length) break;
      index[i] = 0;
    }
  }
}
