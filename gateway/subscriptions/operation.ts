/**
 * A subscription document, turned into the query the gateway runs once per event. The root field
 * (`readingProgressChanged`) becomes the owning subgraph's query field for one change
 * (`readingProgressChange(seq: $folioSyncSeq)`), aliased back to the subscription's response key,
 * with the client's arguments and selection unchanged. So each event's selection, `book { title }`
 * included, is planned and executed by the gateway like any query (query planner, operation
 * limits, subgraph signing, logging, metrics), and the answer has the shape the client subscribed to.
 */
import { Kind, parse, print, visit, type ArgumentNode, type DocumentNode, type FieldNode, type OperationDefinitionNode, type ValueNode } from 'graphql';
import { FolioError } from '../../lib/errors.js';
import type { Producer, Topic } from './feed.js';

/** A subscription root field served by the gateway: which events feed it and which query resolves one. */
export interface SubscriptionField {
  /** The `Query` field that resolves one change by `seq` with the subscriber's identity. */
  readonly queryField: string;
  /** Outbox event types (ugc's lib/events.ts outbox) that may concern this field. */
  readonly eventTypes: readonly string[];
  /** The `ChangeKind`s of `me.changes` this field delivers (catch-up from `after`); absent: the field takes no `after`. */
  readonly kinds?: readonly string[];
  /** Cheap pre-filter on an event's payload by the field's arguments (the subgraph filters again). */
  readonly matches?: (payload: Record<string, unknown>, args: Readonly<Record<string, unknown>>) => boolean;
  /** Whose outbox feed carries the events (the subgraph that owns the data and `queryField`). @default 'ugc' */
  readonly producer?: Producer;
  /**
   * A field about a shared thing, not the subscriber's own data: events whose payload `payloadKey`
   * equals the argument `argument` go to every subscriber of that thing, and the owning subgraph's
   * policy decides per subscriber (the per-event query answers null or an error). Without it, a
   * subscriber only ever gets its own user's events.
   */
  readonly shared?: { readonly argument: string; readonly payloadKey: string };
}

/** The subscription fields of schema/ugc.graphql (the subgraph that owns the data). */
export const SUBSCRIPTION_FIELDS: Readonly<Record<string, SubscriptionField>> = {
  readingProgressChanged: { queryField: 'readingProgressChange', eventTypes: ['ProgressUpdated'], kinds: ['PROGRESS'] },
  myAnnotationsChanged: {
    queryField: 'annotationChange',
    eventTypes: ['HighlightCreated', 'HighlightUpdated', 'HighlightDeleted', 'NoteWritten', 'NoteDeleted'],
    kinds: ['HIGHLIGHT', 'NOTE'],
    matches: (payload, args) => typeof args.bookId !== 'string' || payload.bookId === args.bookId,
  },
  shelfChanged: { queryField: 'shelfChange', eventTypes: ['ShelfEntryChanged', 'ShelfEntryRemoved'], kinds: ['SHELF'] },
  // Shared things: schema/catalog.graphql and schema/ugc.graphql.
  uploadJobUpdated: { queryField: 'uploadJobUpdate', eventTypes: ['UploadJobUpdated'], producer: 'catalog', shared: { argument: 'id', payloadKey: 'jobId' } },
  repairJobUpdated: { queryField: 'repairJobUpdate', eventTypes: ['RepairJobUpdated'], shared: { argument: 'bookId', payloadKey: 'bookId' } },
  publicNoteAdded: {
    queryField: 'publicNoteAddition',
    eventTypes: ['NoteWritten'],
    shared: { argument: 'paragraphId', payloadKey: 'paragraphId' },
    // Only notes a write made public; ugc checks the note as it is now, and the subscriber's right to read it.
    matches: (payload) => payload.becamePublic === true && payload.visibility === 'PUBLIC',
  },
};

/** The root-field argument every subscription takes: a cursor of `me.changes` to replay from. */
const AFTER_ARGUMENT = 'after';
const CURSOR = /^(0|[1-9][0-9]{0,15})$/;

/**
 * The catch-up listing, run with the subscriber's identity through the gateway like any query:
 * the seqs of the changes this subscription missed since its cursor, a page at a time. Each is then
 * resolved by the per-event query, exactly as a live event.
 */
export const CATCH_UP_QUERY = `query FolioSubscriptionCatchUp($after: String!, $kinds: [ChangeKind!]!) {
  me { changes(after: $after, first: 500, kinds: $kinds) { edges { cursor } pageInfo { hasNextPage endCursor } } }
}`;

/** The variable carrying the event's `seq` into the per-event query. */
export const SEQ_VARIABLE = 'folioSyncSeq';

export interface PreparedSubscription {
  readonly fieldName: string;
  readonly field: SubscriptionField;
  readonly operationName: string | undefined;
  /** The per-event query (printed once: Apollo's document cache then parses it once). */
  readonly query: string;
  /** The client's variables; each execution adds SEQ_VARIABLE. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The root field's arguments, resolved from literals and variables (for `matches`). */
  readonly args: Readonly<Record<string, unknown>>;
  /** For a `shared` field: the thing whose events it listens to. */
  readonly topic?: Topic;
  /** The `after` cursor (a seq, decimal): replay the changes since, then go live. */
  readonly after: string | undefined;
}

export interface PrepareInput {
  readonly query: unknown;
  readonly operationName?: unknown;
  readonly variables?: unknown;
}

const badRequest = (message: string): FolioError => new FolioError('BAD_REQUEST', message);

/**
 * Parses (within the token limit) and rewrites one subscription. Queries and mutations are refused:
 * they go over HTTP, where caching, dedup and trusted documents apply.
 */
export function prepareSubscription(input: PrepareInput, options: { maxTokens: number; maxBytes: number }): PreparedSubscription {
  if (typeof input.query !== 'string' || input.query.length === 0) throw badRequest('A subscription needs its document in "query".');
  if (input.query.length > options.maxBytes) throw new FolioError('PAYLOAD_TOO_LARGE', `The document is larger than ${options.maxBytes} bytes.`);
  const operationName = typeof input.operationName === 'string' ? input.operationName : undefined;
  const variables = input.variables === undefined || input.variables === null ? {} : input.variables;
  if (typeof variables !== 'object' || Array.isArray(variables)) throw badRequest('"variables" must be an object.');
  let document: DocumentNode;
  try {
    document = parse(input.query, { maxTokens: options.maxTokens });
  } catch (error) {
    // graphql-js: "Document contains more that N tokens. Parsing aborted."
    const limit = error instanceof Error && /contains more th(?:an|at) \d+ tokens/.test(error.message);
    throw limit
      ? new FolioError('OPERATION_LIMIT_EXCEEDED', `The document has more than ${options.maxTokens} tokens.`, { details: { limit: 'tokens' } })
      : new FolioError('GRAPHQL_PARSE_FAILED', error instanceof Error ? error.message : undefined);
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
  if (!operation) {
    throw new FolioError('OPERATION_RESOLUTION_FAILURE', operationName === undefined ? 'The document has several operations: say which one to run with operationName.' : 'The document has no operation of that name.');
  }
  if (operation.operation !== 'subscription') throw badRequest('Only subscriptions are served over WebSocket and SSE; send queries and mutations over HTTP.');
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD) throw badRequest('A subscription selects exactly one root field (no fragments at the root).');
  if (root.directives?.length) throw badRequest('Directives are not accepted on a subscription root field.');
  const fieldName = root.name.value;
  const field = Object.hasOwn(SUBSCRIPTION_FIELDS, fieldName) ? SUBSCRIPTION_FIELDS[fieldName] : undefined;
  if (!field) throw badRequest(`Subscription has no field "${fieldName.slice(0, 100)}".`);
  if (operation.variableDefinitions?.some((v) => v.variable.name.value === SEQ_VARIABLE)) throw badRequest(`The variable name $${SEQ_VARIABLE} is reserved.`);

  const vars = variables as Record<string, unknown>;
  // `after` is the gateway's (catch-up), not the per-event query's: it is taken off the field.
  const afterArgument = root.arguments?.find((a) => a.name.value === AFTER_ARGUMENT);
  if (afterArgument && !field.kinds) throw new FolioError('BAD_USER_INPUT', `${fieldName} takes no "after": it has no change history to catch up from.`, { details: { field: AFTER_ARGUMENT } });
  const after = cursorOf(afterArgument ? valueOf(afterArgument.value, vars) : undefined);
  const seqArgument: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'seq' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: SEQ_VARIABLE } } };
  const perEvent: FieldNode = {
    ...root,
    alias: root.alias ?? root.name,
    name: { kind: Kind.NAME, value: field.queryField },
    arguments: [...(root.arguments ?? []).filter((a) => a !== afterArgument), seqArgument],
  };
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  // A variable that only carried `after` would now be unused (a validation error): drop its definition.
  const afterVariable = afterArgument?.value.kind === Kind.VARIABLE ? afterArgument.value.name.value : undefined;
  const selectionSet = { ...operation.selectionSet, selections: [perEvent] };
  const dropVariable = afterVariable !== undefined && !variablesUsed([selectionSet, ...fragments]).has(afterVariable);
  const keep = (operation.variableDefinitions ?? []).filter((v) => !dropVariable || v.variable.name.value !== afterVariable);
  const query: OperationDefinitionNode = {
    ...operation,
    operation: 'query' as OperationDefinitionNode['operation'],
    variableDefinitions: [
      ...keep,
      { kind: Kind.VARIABLE_DEFINITION, variable: seqArgument.value as never, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } } },
    ],
    selectionSet,
  };
  // Other operations of the document are dropped; its fragments stay (the selection may use them).
  const definitions = [query, ...fragments];
  const args = Object.fromEntries((root.arguments ?? []).map((a) => [a.name.value, valueOf(a.value, vars)]));
  let topic: Topic | undefined;
  if (field.shared) {
    const value = args[field.shared.argument];
    if ((typeof value !== 'string' && typeof value !== 'number') || String(value).length > 200) throw badRequest(`${fieldName} needs its "${field.shared.argument}" argument (an id).`);
    topic = { producer: field.producer ?? 'ugc', key: field.shared.payloadKey, value: String(value) };
  }
  // Without the cursor among them, devices subscribed from different cursors share each event's run.
  const perEventVariables = dropVariable ? Object.fromEntries(Object.entries(vars).filter(([name]) => name !== afterVariable)) : vars;
  return { fieldName, field, operationName, query: print({ kind: Kind.DOCUMENT, definitions }), variables: perEventVariables, args, after, ...(topic ? { topic } : {}) };
}

/** The cursor `after` names (undefined without one); BAD_USER_INPUT unless it is a seq. */
function cursorOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !CURSOR.test(text)) throw new FolioError('BAD_USER_INPUT', '"after" must be a cursor of me.changes (or the seq of an event).', { details: { field: AFTER_ARGUMENT } });
  return text;
}

function variablesUsed(nodes: readonly Parameters<typeof visit>[0][]): Set<string> {
  const used = new Set<string>();
  for (const node of nodes) visit(node, { Variable: (v) => void used.add(v.name.value) });
  return used;
}

function valueOf(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.BOOLEAN:
      return node.value;
    default:
      return undefined; // lists, objects, null: no pre-filter; the subgraph decides
  }
}
