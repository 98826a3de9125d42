/**
 * Command templates of the autopilot: a shell command line with `{placeholder}`s, each replaced by its value
 * quoted for the shell (so a value is always one word and never runs as code). `{{` and `}}` are literal
 * braces.
 */
export const TEMPLATE_PLACEHOLDERS = ['database', 'design', 'view', 'name', 'cores', 'memory', 'walltime', 'count', 'script'] as const;
export type TemplateValues = Partial<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string | number | undefined>>;

export class TemplateError extends Error {
  constructor(message: string) { super(message); this.name = 'TemplateError'; }
}

/** A value as one shell word. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The placeholders a template uses; throws on an unknown one, naming the known ones. */
export function templatePlaceholders(template: string, what: string): string[] {
  const used: string[] = [];
  for (const m of template.replace(/\{\{|\}\}/g, '').matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1]!;
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TemplateError(`${what}: unknown placeholder {${name}}; known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
    used.push(name);
  }
  return used;
}

/** Fill a template; a placeholder without a value is an error saying where the value would come from. */
export function fillTemplate(template: string, values: TemplateValues, what: string): string {
  templatePlaceholders(template, what);
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (all, name: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    const value = values[name as keyof TemplateValues];
    if (value === undefined || value === '') {
      throw new TemplateError(`${what} uses {${name}}, which has no value here (set ${name} in the configuration or in the view's tokens)`);
    }
    return shellQuote(String(value));
  });
}
