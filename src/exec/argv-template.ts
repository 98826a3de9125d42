import { toJson } from '../couch/json.js';
import { CommandSpecError } from './errors.js';

/**
 * Argument templates: `['./fractals', '-q', '{q}', '-o', '{_id}.ppm']`. Each element becomes exactly one
 * argument of the program, with `{field}` replaced by the token's field; no shell ever sees the values,
 * so spaces, quotes, `$(...)` or `;` in a field arrive as literal text. `{{` and `}}` are literal braces.
 * `{a.b}` reaches into an object field (e.g. `{input.q}` for tokens whose input is a dict) when the token
 * has no field literally named `a.b`.
 */

type Piece = { text: string } | { field: string };

/** Split one template element into literal text and placeholders; throws on unbalanced braces. */
function parseElement(element: string, index: number): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let i = 0;
  while (i < element.length) {
    const c = element[i]!;
    if (c === '{' && element[i + 1] === '{') { text += '{'; i += 2; continue; }
    if (c === '}' && element[i + 1] === '}') { text += '}'; i += 2; continue; }
    if (c === '}') {
      throw new CommandSpecError(`argument template: stray '}' in argument ${index} (${JSON.stringify(element)}); write '}}' for a literal brace`);
    }
    if (c === '{') {
      const close = element.indexOf('}', i + 1);
      const name = close < 0 ? '' : element.slice(i + 1, close);
      if (close < 0 || name === '' || name.includes('{')) {
        throw new CommandSpecError(`argument template: unclosed or empty placeholder in argument ${index} (${JSON.stringify(element)}); write {field}, or '{{' for a literal brace`);
      }
      if (text) { pieces.push({ text }); text = ''; }
      pieces.push({ field: name });
      i = close + 1;
      continue;
    }
    text += c;
    i += 1;
  }
  if (text) pieces.push({ text });
  return pieces;
}

/** The token's value for a placeholder name, or undefined when it has none. */
function lookup(fields: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(fields, name)) return fields[name];
  let value: unknown = fields;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Text of a field value as one argument: strings as they are, numbers/booleans printed, objects as JSON. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return toJson(value);
}

/** Fill every placeholder from `fields`; throws CommandSpecError (nothing runs) on any problem. */
export function expandArgvTemplate(template: readonly string[], fields: Record<string, unknown> = {}): string[] {
  if (template.length === 0) {
    throw new CommandSpecError('argument template is empty; give the program to run and its arguments, e.g. ./fractals -q {q}');
  }
  // Parse everything first so a template error is reported even when a field is also missing.
  const parsed = template.map((element, index) => parseElement(element, index));
  const args = parsed.map((pieces, index) => pieces.map((piece) => {
    if ('text' in piece) return piece.text;
    const value = lookup(fields, piece.field);
    if (value === null) {
      throw new CommandSpecError(`argument template: placeholder {${piece.field}} in argument ${index} (${JSON.stringify(template[index])}) is null in the token; give the field a value`);
    }
    if (value === undefined) {
      const known = Object.keys(fields).sort().join(', ') || '(none)';
      throw new CommandSpecError(`argument template: unknown placeholder {${piece.field}} in argument ${index} (${JSON.stringify(template[index])}); the token's fields are: ${known}`);
    }
    return render(value);
  }).join(''));
  const withNul = args.findIndex((arg) => arg.includes('\0'));
  if (withNul >= 0) {
    throw new CommandSpecError(`argument template: argument ${withNul} (${JSON.stringify(template[withNul])}) would contain a NUL byte, which no program can receive; fix the token's value`);
  }
  if (args[0] === '') {
    throw new CommandSpecError(`argument template: the program name (argument 0, ${JSON.stringify(template[0])}) is empty`);
  }
  return args;
}
