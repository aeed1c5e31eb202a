/**
 * A tiny sentence-embedding model directory, laid out as Hugging Face exports one
 * (`onnx/model.onnx` or `model.onnx`, `tokenizer.json`, `config.json`), built here because this
 * machine cannot download real weights. The graph is BERT's input contract without the layers:
 * `last_hidden_state = Gather(word_embeddings, input_ids) + Gather(type_embeddings, token_type_ids)`,
 * with `attention_mask` declared like a real export. Every token's row is known, so tests can
 * compute the expected pooled vector by hand, and padding rows are non-zero, so pooling that
 * ignored the mask would show.
 *
 * The ONNX protobuf is written by hand (a few message types; field numbers from onnx.proto3).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// --- a minimal protobuf writer ----------------------------------------------------------------

type Field = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
const intField = (field: number, value: number | bigint): Field => Uint8Array.from([...varint(field << 3), ...varint(value)]);
const bytesField = (field: number, bytes: Uint8Array): Field => concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
const stringField = (field: number, text: string): Field => bytesField(field, Buffer.from(text, 'utf8'));
const message = (field: number, parts: readonly Field[]): Field => bytesField(field, concat(parts));

// --- ONNX messages ----------------------------------------------------------------------------

const FLOAT = 1;
const INT64 = 7;

/** ValueInfoProto of a tensor; a string dimension is symbolic (batch, sequence). */
function valueInfo(field: number, name: string, elemType: number, dims: ReadonlyArray<number | string>): Field {
  const shape = dims.map((d) => message(1, [typeof d === 'number' ? intField(1, d) : stringField(2, d)]));
  return message(field, [stringField(1, name), message(2, [message(1, [intField(1, elemType), message(2, shape)])])]);
}

function floatInitializer(name: string, dims: readonly number[], values: Float32Array): Field {
  return message(5, [...dims.map((d) => intField(1, d)), intField(2, FLOAT), stringField(8, name), bytesField(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength))]);
}

const node = (opType: string, inputs: readonly string[], outputs: readonly string[]): Field =>
  message(1, [...inputs.map((i) => stringField(1, i)), ...outputs.map((o) => stringField(2, o)), stringField(3, `${opType}_${outputs[0]}`), stringField(4, opType)]);

export interface TinyModelSpec {
  /** Vocabulary in id order; must start with [PAD], [UNK], [CLS], [SEP]. */
  readonly vocab: readonly string[];
  /** One row per vocabulary entry. */
  readonly embeddings: readonly (readonly number[])[];
  /** Added to every token of segment 0 (BERT's token type embedding). @default zeros */
  readonly typeEmbedding?: readonly number[];
  /** config.json `max_position_embeddings`. @default 512 */
  readonly maxPositions?: number;
  /** Where the graph goes inside the directory. @default 'onnx/model.onnx' */
  readonly modelPath?: string;
  /** config.json `_name_or_path`. @default 'folio/tiny-test-model' */
  readonly name?: string;
  /** Declare and use token_type_ids (as BERT exports do). @default true */
  readonly tokenTypes?: boolean;
  /**
   * Square MatMul layers after the embedding (weights `layerScale` × identity), to give a graph
   * real work for timing; 0 keeps the output exactly the embedding rows. @default 0
   */
  readonly layers?: number;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

/** The ONNX bytes of the graph described above. */
export function tinyOnnxGraph(spec: TinyModelSpec): Uint8Array {
  const dim = spec.embeddings[0]!.length;
  const words = Float32Array.from(spec.embeddings.flat());
  const useTypes = spec.tokenTypes ?? true;
  const types = Float32Array.from([...(spec.typeEmbedding ?? new Array<number>(dim).fill(0)), ...new Array<number>(dim).fill(0)]);
  const layers = spec.layers ?? 0;
  const embedded = layers > 0 ? 'h0' : 'last_hidden_state';
  const identity = new Float32Array(dim * dim);
  for (let d = 0; d < dim; d++) identity[d * dim + d] = 1;
  const graph = message(7, [
    ...(useTypes
      ? [node('Gather', ['word_embeddings', 'input_ids'], ['words']), node('Gather', ['type_embeddings', 'token_type_ids'], ['types']), node('Add', ['words', 'types'], [embedded])]
      : [node('Gather', ['word_embeddings', 'input_ids'], [embedded])]),
    ...Array.from({ length: layers }, (_, i) => node('MatMul', [`h${i}`, 'layer_weight'], [i === layers - 1 ? 'last_hidden_state' : `h${i + 1}`])),
    ...(layers > 0 ? [floatInitializer('layer_weight', [dim, dim], identity)] : []),
    stringField(2, 'tiny'),
    floatInitializer('word_embeddings', [spec.vocab.length, dim], words),
    ...(useTypes ? [floatInitializer('type_embeddings', [2, dim], types)] : []),
    valueInfo(11, 'input_ids', INT64, ['batch', 'sequence']),
    valueInfo(11, 'attention_mask', INT64, ['batch', 'sequence']),
    ...(useTypes ? [valueInfo(11, 'token_type_ids', INT64, ['batch', 'sequence'])] : []),
    valueInfo(12, 'last_hidden_state', FLOAT, ['batch', 'sequence', dim]),
  ]);
  return concat([intField(1, 8), stringField(2, 'folio-test'), graph, message(8, [stringField(1, ''), intField(2, 13)])]);
}

/** A BERT-style WordPiece tokenizer.json over `vocab` (lower-cased; each Han character a token). */
export function tinyTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const id = (token: string): number => vocab.indexOf(token);
  const special = (token: string) => ({ id: id(token), content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
}

/** Writes the model directory and returns it. */
export function writeTinyModel(dir: string, spec: TinyModelSpec): string {
  if (spec.vocab.slice(0, SPECIAL_TOKENS.length).join() !== SPECIAL_TOKENS.join()) throw new Error(`vocab must start with ${SPECIAL_TOKENS.join(', ')}`);
  if (spec.embeddings.length !== spec.vocab.length) throw new Error('one embedding row per vocabulary entry');
  const modelPath = join(dir, spec.modelPath ?? 'onnx/model.onnx');
  mkdirSync(join(modelPath, '..'), { recursive: true });
  writeFileSync(modelPath, tinyOnnxGraph(spec));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(spec.vocab)));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ _name_or_path: spec.name ?? 'folio/tiny-test-model', model_type: 'bert', hidden_size: spec.embeddings[0]!.length, max_position_embeddings: spec.maxPositions ?? 512, vocab_size: spec.vocab.length }),
  );
  return dir;
}

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), so a model is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/**
 * A tiny model over the words of `texts` (each Han character a word, as the tokenizer splits
 * them), one seeded random row per word: a bag-of-words random projection. It knows nothing of
 * meaning; it exists to run the whole in-process embedding path on real books.
 */
export function writeVocabularyModel(dir: string, texts: readonly string[], options: { dimension?: number; seed?: number; maxPositions?: number } = {}): string {
  const dimension = options.dimension ?? 32;
  const random = seededRandom(options.seed ?? 1);
  const words = new Set<string>();
  for (const text of texts) {
    for (const [word] of text.normalize('NFKC').toLowerCase().matchAll(/\p{Script=Han}|[\p{L}\p{N}]+/gu)) words.add(word);
  }
  const vocab = [...SPECIAL_TOKENS, ...[...words].sort()];
  const embeddings = vocab.map((_, i) => Array.from({ length: dimension }, () => (i < SPECIAL_TOKENS.length ? 0.01 : 1) * random()));
  return writeTinyModel(dir, { vocab, embeddings, maxPositions: options.maxPositions ?? 128, name: 'folio/tiny-test-model' });
}
