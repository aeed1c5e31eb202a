/**
 * "Overlapping fields can be merged" (GraphQL spec §5.3.2) in time linear in the expanded
 * document, replacing graphql-js's OverlappingFieldsCanBeMergedRule, which compares every pair of
 * same-named fields and recurses into each pair's sub-selections: 740 copies of `me { id }` (12 KB,
 * inside every size limit) kept it busy for 0.3–1.3 s.
 *
 * The algorithm is the one XING published and apollo-compiler and sangria use: instead of pairs,
 * take all fields that answer under one response name, check each against the first (both checks
 * are equivalences, so the first stands for all), then merge their sub-selections into one set and
 * recurse. Merged sets are memoised by their contents, so a fragment spread in many places is
 * checked once per distinct context. The two spec conditions are separate passes:
 * - same response shape: every field under a name, whatever its parent, has the same list and
 *   null wrapping and the same leaf type (or a composite type whose merged fields again agree);
 * - same field for common parents: fields whose parents can be the same object (the same object
 *   type, or an interface/union) select the same field with the same arguments.
 *
 * Types are told apart by graphql-js's toStringTag, not instanceof: the schema comes from
 * @apollo/gateway's (CommonJS) copy of graphql, and under vitest this module gets the ESM copy.
 *
 * A work budget bounds the rest (fragments that fan out into many distinct contexts): past it the
 * operation is refused with OPERATION_LIMIT_EXCEEDED (`limit: 'validation'`), never validated slowly.
 */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { FolioError } from '../../lib/errors.js';

export interface FieldsCanMergeOptions {
  /** Expanded selections plus comparisons allowed per document. @default 50000 */
  readonly maxWork?: number;
  /** Conflicts reported per document (one is enough to refuse it). @default 10 */
  readonly maxErrors?: number;
}

interface FieldInfo {
  /** List/non-null wrapping plus the leaf type's name, or `*` for any composite type: two fields
   * have the same response shape at this level exactly when these are equal (spec steps 3–5). */
  readonly shape: string;
  /** The named type the field's sub-selection applies to. */
  readonly type: GraphQLNamedType | undefined;
}

interface Selection {
  readonly id: number;
  readonly node: FieldNode;
  readonly responseName: string;
  readonly parent: GraphQLNamedType | undefined;
  readonly def: FieldInfo | undefined;
}

interface MergedSet {
  readonly selections: readonly Selection[];
  byName: Map<string, Selection[]> | undefined;
  shapeChecked: boolean;
  parentsChecked: boolean;
}

type Root = readonly [SelectionSetNode, GraphQLNamedType | undefined];

class WorkBudgetExceeded extends Error {}

/** An order-independent key for an argument value (object fields sorted), as the spec compares them. */
function valueKey(value: ValueNode): string {
  switch (value.kind) {
    case Kind.VARIABLE:
      return `$${value.name.value}`;
    case Kind.NULL:
      return 'null';
    case Kind.STRING:
      return JSON.stringify(value.value);
    case Kind.LIST:
      return `[${value.values.map(valueKey).join(',')}]`;
    case Kind.OBJECT:
      return `{${value.fields
        .map((f) => `${f.name.value}:${valueKey(f.value)}`)
        .sort()
        .join(',')}}`;
    default:
      return `${value.kind}:${value.value}`;
  }
}

const argumentKeys = new WeakMap<FieldNode, string>();
function argumentsKey(node: FieldNode): string {
  let key = argumentKeys.get(node);
  if (key === undefined) {
    key = (node.arguments ?? [])
      .map((a) => `${a.name.value}:${valueKey(a.value)}`)
      .sort()
      .join(',');
    argumentKeys.set(node, key);
  }
  return key;
}

type Tag = 'GraphQLNonNull' | 'GraphQLList' | 'GraphQLObjectType' | 'GraphQLScalarType' | 'GraphQLEnumType' | 'GraphQLInterfaceType' | 'GraphQLUnionType' | 'GraphQLInputObjectType';
const tagOf = (type: unknown): Tag | undefined => (type as { [Symbol.toStringTag]?: Tag } | undefined)?.[Symbol.toStringTag];
const isObject = (type: unknown): type is { name: string; getFields(): Record<string, { type: GraphQLOutputType }> } => tagOf(type) === 'GraphQLObjectType';
const isAbstract = (type: unknown): boolean => tagOf(type) === 'GraphQLInterfaceType' || tagOf(type) === 'GraphQLUnionType';

function infoOf(type: GraphQLOutputType): FieldInfo {
  let shape = '';
  let t: unknown = type;
  for (;;) {
    const tag = tagOf(t);
    if (tag === 'GraphQLList') shape += '[';
    else if (tag === 'GraphQLNonNull') shape += '!';
    else break;
    t = (t as { ofType: unknown }).ofType;
  }
  const named = t as GraphQLNamedType;
  const leaf = tagOf(named) === 'GraphQLScalarType' || tagOf(named) === 'GraphQLEnumType';
  return { shape: `${shape}${leaf ? named.name : '*'}`, type: named };
}

function fieldInfo(schema: GraphQLSchema, parent: GraphQLNamedType | undefined, name: string): FieldInfo | undefined {
  if (name === '__typename') return { shape: '!String', type: schema.getType('String') ?? undefined };
  if (parent && parent === schema.getQueryType()) {
    if (name === '__schema') return { shape: '!*', type: schema.getType('__Schema') ?? undefined };
    if (name === '__type') return { shape: '*', type: schema.getType('__Type') ?? undefined };
  }
  const tag = tagOf(parent);
  if (tag !== 'GraphQLObjectType' && tag !== 'GraphQLInterfaceType') return undefined;
  const def = (parent as unknown as { getFields(): Record<string, { type: GraphQLOutputType } | undefined> }).getFields()[name];
  return def ? infoOf(def.type) : undefined;
}

// The field's declared type as SDL prints it, for the message.
function printType(selection: Selection): string {
  const parent = selection.parent as unknown as { getFields?(): Record<string, { type: GraphQLOutputType } | undefined> } | undefined;
  const def = parent?.getFields?.()[selection.node.name.value];
  return def ? String(def.type) : selection.def?.shape.replace('*', 'object') ?? 'unknown';
}

const conflictMessage = (responseName: string, reason: string): string =>
  `Fields "${responseName}" conflict because ${reason}. Use different aliases on the fields to fetch both if this was intentional.`;

export function createFieldsCanMergeRule(options: FieldsCanMergeOptions = {}): ValidationRule {
  const maxWork = options.maxWork ?? 50_000;
  const maxErrors = options.maxErrors ?? 10;

  return function FieldsCanMergeRule(context: ValidationContext): ASTVisitor {
    const schema = context.getSchema();
    // One id per (field node, parent type): the same node under another type is another selection.
    const ids = new Map<FieldNode, Map<GraphQLNamedType | undefined, Selection>>();
    const sets = new Map<string, MergedSet>();
    let nextId = 0;
    let work = 0;
    let errors = 0;
    let exhausted = false;

    const spend = (units: number): void => {
      work += units;
      if (work > maxWork) throw new WorkBudgetExceeded();
    };

    const report = (responseName: string, reason: string, a: Selection, b: Selection): void => {
      if (errors >= maxErrors) return;
      errors += 1;
      context.reportError(new GraphQLError(conflictMessage(responseName, reason), { nodes: [a.node, b.node] }));
    };

    const selectionOf = (node: FieldNode, parent: GraphQLNamedType | undefined): Selection => {
      let byParent = ids.get(node);
      if (!byParent) ids.set(node, (byParent = new Map()));
      let selection = byParent.get(parent);
      if (!selection) {
        selection = { id: nextId++, node, responseName: node.alias?.value ?? node.name.value, parent, def: fieldInfo(schema, parent, node.name.value) };
        byParent.set(parent, selection);
      }
      return selection;
    };

    // Every field the given selection sets select, through inline fragments and spreads (each
    // fragment once per expansion, as the executor's CollectFields does).
    const expand = (roots: readonly Root[]): MergedSet => {
      const selections: Selection[] = [];
      const queue: Root[] = [...roots];
      const seenFragments = new Set<string>();
      for (let i = 0; i < queue.length; i++) {
        const [set, type] = queue[i]!;
        spend(set.selections.length);
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            selections.push(selectionOf(selection, type));
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
            queue.push([selection.selectionSet, condition]);
          } else if (!seenFragments.has(selection.name.value)) {
            seenFragments.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) queue.push([fragment.selectionSet, schema.getType(fragment.typeCondition.name.value)]);
          }
        }
      }
      const key = selections.map((s) => s.id).join(',');
      let merged = sets.get(key);
      if (!merged) {
        merged = { selections, byName: undefined, shapeChecked: false, parentsChecked: false };
        sets.set(key, merged);
      }
      return merged;
    };

    const byName = (set: MergedSet): Map<string, Selection[]> => {
      if (!set.byName) {
        set.byName = new Map();
        for (const s of set.selections) {
          const group = set.byName.get(s.responseName);
          if (group) group.push(s);
          else set.byName.set(s.responseName, [s]);
        }
      }
      return set.byName;
    };

    const subSelections = (fields: readonly Selection[]): Root[] => {
      const roots: Root[] = [];
      for (const f of fields) if (f.node.selectionSet) roots.push([f.node.selectionSet, f.def?.type]);
      return roots;
    };

    const checkShape = (set: MergedSet): void => {
      if (set.shapeChecked) return;
      set.shapeChecked = true;
      for (const [name, fields] of byName(set)) {
        spend(fields.length);
        const first = fields[0]!;
        for (const other of fields) {
          if (other === first || !first.def || !other.def) continue;
          if (first.def.shape !== other.def.shape) {
            report(name, `they return conflicting types "${printType(first)}" and "${printType(other)}"`, first, other);
            break;
          }
        }
        const roots = subSelections(fields);
        if (roots.length > 0) checkShape(expand(roots));
      }
    };

    // Fields overlap when their parents can be the same object at run time: the same object
    // type, or an interface/union (which may come to include any object type).
    const commonParentGroups = (fields: readonly Selection[]): Selection[][] => {
      const abstract: Selection[] = [];
      const concrete = new Map<string, Selection[]>();
      for (const f of fields) {
        if (isObject(f.parent)) {
          const group = concrete.get(f.parent.name);
          if (group) group.push(f);
          else concrete.set(f.parent.name, [f]);
        } else if (isAbstract(f.parent)) {
          abstract.push(f);
        }
      }
      if (concrete.size === 0) return [abstract];
      spend(concrete.size * abstract.length);
      return [...concrete.values()].map((group) => group.concat(abstract));
    };

    const checkParents = (set: MergedSet): void => {
      if (set.parentsChecked) return;
      set.parentsChecked = true;
      for (const [name, fields] of byName(set)) {
        for (const group of commonParentGroups(fields)) {
          spend(group.length);
          const first = group[0];
          if (!first) continue;
          for (const other of group) {
            if (other === first) continue;
            if (other.node.name.value !== first.node.name.value) {
              report(name, `"${first.node.name.value}" and "${other.node.name.value}" are different fields`, first, other);
              break;
            }
            if (argumentsKey(other.node) !== argumentsKey(first.node)) {
              report(name, 'they have differing arguments', first, other);
              break;
            }
          }
          const roots = subSelections(group);
          if (roots.length > 0) checkParents(expand(roots));
        }
      }
    };

    return {
      OperationDefinition(operation) {
        if (exhausted) return false;
        const root = schema.getRootType(operation.operation) ?? undefined;
        try {
          const set = expand([[operation.selectionSet, root]]);
          checkShape(set);
          checkParents(set);
        } catch (error) {
          if (!(error instanceof WorkBudgetExceeded)) throw error;
          exhausted = true;
          const refusal = new FolioError('OPERATION_LIMIT_EXCEEDED', 'The operation is too complex to validate (too many overlapping fields and fragments).', {
            details: { limit: 'validation' },
          });
          context.reportError(new GraphQLError(refusal.message, { nodes: [operation], originalError: refusal }));
        }
        return false;
      },
      // Fragments are checked where they are spread, in the context of each operation.
      FragmentDefinition: () => false,
    };
  };
}
