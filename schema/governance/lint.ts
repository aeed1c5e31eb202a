/**
 * Conventions lint over the client-facing API schema. Warnings only: existing violations must not
 * block CI, but every new one shows up in the check report with its coordinate.
 */
import { createRequire } from 'node:module';
import type { GraphQLField, GraphQLSchema } from 'graphql';

const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');
const { buildSchema, getNamedType, isInputObjectType, isInterfaceType, isListType, isNonNullType, isObjectType, isEnumType, isIntrospectionType } = graphql;

export interface LintWarning {
  rule: 'description' | 'relay-connection' | 'mutation-input' | 'deprecation-reason';
  coordinate: string;
  message: string;
}

const DEFAULT_DEPRECATION = 'No longer supported';

export function lintApiSchema(apiSdl: string): LintWarning[] {
  const schema: GraphQLSchema = buildSchema(apiSdl);
  const out: LintWarning[] = [];
  const mutation = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isIntrospectionType(type)) continue;
    if (!(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type) || isEnumType(type))) continue;
    const root = type === schema.getQueryType() || type === mutation || type === schema.getSubscriptionType();
    if (!root && !type.description) out.push({ rule: 'description', coordinate: type.name, message: 'type has no description' });
    if (isEnumType(type)) {
      for (const v of type.getValues()) checkDeprecation(out, `${type.name}.${v.name}`, v.deprecationReason);
      continue;
    }
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (!field.description) out.push({ rule: 'description', coordinate, message: 'field has no description' });
      checkDeprecation(out, coordinate, field.deprecationReason);
      if (!isInputObjectType(type)) {
        const f = field as GraphQLField<unknown, unknown>;
        for (const arg of f.args) checkDeprecation(out, `${coordinate}.${arg.name}`, arg.deprecationReason);
        if (type === mutation && f.args.length > 2) {
          out.push({ rule: 'mutation-input', coordinate, message: `mutation takes ${f.args.length} arguments: use one input object` });
        }
      }
    }
    if ((isObjectType(type) || isInterfaceType(type)) && type.name.endsWith('Connection')) out.push(...checkConnection(type));
  }
  return out;
}

function checkDeprecation(out: LintWarning[], coordinate: string, reason: string | null | undefined): void {
  if (reason === undefined || reason === null) return;
  // graphql-js fills this default when @deprecated has no reason argument.
  if (reason.trim() === '' || reason === DEFAULT_DEPRECATION) out.push({ rule: 'deprecation-reason', coordinate, message: '@deprecated without a reason' });
}

function checkConnection(type: import('graphql').GraphQLObjectType | import('graphql').GraphQLInterfaceType): LintWarning[] {
  const fields = type.getFields();
  const problems: string[] = [];
  const edges = fields['edges'];
  const pageInfo = fields['pageInfo'];
  if (!edges || !isListType(isNonNullType(edges.type) ? edges.type.ofType : edges.type)) problems.push('needs a list field `edges`');
  else {
    const edge = getNamedType(edges.type);
    if (!isObjectType(edge) || !edge.getFields()['node'] || !edge.getFields()['cursor']) problems.push(`edge type ${edge.name} needs \`node\` and \`cursor\``);
  }
  if (!pageInfo || getNamedType(pageInfo.type).name !== 'PageInfo') problems.push('needs `pageInfo: PageInfo!`');
  return problems.map((message) => ({ rule: 'relay-connection' as const, coordinate: type.name, message: `Relay connection ${message}` }));
}

/** Lists every warning with `verbose`; otherwise at most `limit` per rule, then a count. */
export function formatLint(warnings: readonly LintWarning[], verbose = false, limit = 10): string {
  if (warnings.length === 0) return 'Conventions: no warnings.';
  const byRule = new Map<string, number>();
  for (const w of warnings) byRule.set(w.rule, (byRule.get(w.rule) ?? 0) + 1);
  const summary = [...byRule].map(([rule, n]) => `${rule}: ${n}`).join(', ');
  const lines = [`Conventions (warnings, not blocking) — ${summary}:`];
  for (const [rule, count] of byRule) {
    const shown = warnings.filter((w) => w.rule === rule).slice(0, verbose ? undefined : limit);
    lines.push(...shown.map((w) => `  ⚠ ${w.rule.padEnd(18)} ${w.coordinate}  ${w.message}`));
    if (shown.length < count) lines.push(`  … ${count - shown.length} more ${rule} warnings (--verbose lists them)`);
  }
  return lines.join('\n');
}
