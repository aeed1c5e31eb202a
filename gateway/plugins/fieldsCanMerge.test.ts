import { buildSchema, OverlappingFieldsCanBeMergedRule, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createFieldsCanMergeRule } from './fieldsCanMerge.js';

const schema = buildSchema(`
  interface Pet { name(surname: Boolean): String }
  type Dog implements Pet { name(surname: Boolean): String nickname: String barkVolume: Int doesKnowCommand(dogCommand: DogCommand): Boolean isAtLocation(x: Int, y: Int): Boolean friend: Dog friends: [Dog] owner: Human }
  type Cat implements Pet { name(surname: Boolean): String meowVolume: Int nickname: String friend: Cat }
  union CatOrDog = Cat | Dog
  type Human { name: String pets: [Pet] id: ID! friend: Human }
  enum DogCommand { SIT HEEL DOWN }
  input Where { a: Int b: Int }
  type Query { dog: Dog cat: Cat pet: Pet catOrDog: CatOrDog human(id: ID, where: Where): Human me: Human }
`);

const ours = createFieldsCanMergeRule();
const conflicts = (query: string, rule = ours): number => validate(schema, parse(query), [rule]).length;
const reference = (query: string): number => validate(schema, parse(query), [OverlappingFieldsCanBeMergedRule]).length;

// Each document: does graphql-js's reference rule find a conflict? Ours must agree.
const DOCUMENTS: readonly string[] = [
  '{ dog { name name } }',
  '{ dog { otherName: name name: nickname } }',
  '{ dog { name: nickname name } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: SIT) } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: HEEL) } }',
  '{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand } }',
  '{ dog { isAtLocation(x: 0, y: 1) isAtLocation(y: 1, x: 0) } }',
  'query ($a: DogCommand, $b: DogCommand) { dog { doesKnowCommand(dogCommand: $a) doesKnowCommand(dogCommand: $b) } }',
  '{ human(where: { a: 1, b: 2 }) { id } human(where: { b: 2, a: 1 }) { id } }',
  '{ human(where: { a: 1, b: 2 }) { id } human(where: { b: 2, a: 3 }) { id } }',
  '{ dog { ...A ...B } } fragment A on Dog { x: name } fragment B on Dog { x: nickname }',
  '{ dog { ...A } dog { ...B } } fragment A on Dog { x: name } fragment B on Dog { x: barkVolume }',
  '{ pet { ... on Dog { name: nickname } ... on Cat { name } } }',
  '{ pet { ... on Dog { v: barkVolume } ... on Cat { v: meowVolume } } }',
  '{ pet { ... on Dog { v: barkVolume } ... on Cat { v: nickname } } }',
  '{ pet { name ... on Dog { name: nickname } } }',
  '{ catOrDog { ... on Dog { friend { name } } ... on Cat { friend { name: nickname } } } }',
  '{ dog { friend { name } friend { name: nickname } } }',
  '{ dog { friend { friend { x: name } } friend { friend { x: barkVolume } } } }',
  '{ dog { friend { friend { x: name } } friend { friend { x: name } } } }',
  '{ dog { friends { name } friends: friend { name } } }',
  '{ me { id } me: human { id } }',
  '{ me { id } me { id: name } }',
  '{ a: dog { name } a: cat { name } }',
  '{ dog { ...F } cat { ...G } } fragment F on Dog { friend { n: name } } fragment G on Cat { friend { n: meowVolume } }',
  '{ dog { ... @include(if: true) { name } name } }',
  '{ __typename __typename t: __typename }',
  '{ __typename: dog { name } }',
  '{ dog { ...A } } fragment A on Dog { name ...B } fragment B on Dog { name: nickname }',
  '{ pet { ... on Dog { owner { id } } ... on Cat { owner: friend { name } } } }',
];

describe('fieldsCanMerge: the linear "fields in set can merge" rule', () => {
  it.each(DOCUMENTS)('agrees with graphql-js on %s', (query) => {
    expect(conflicts(query) > 0).toBe(reference(query) > 0);
  });

  it('rejects conflicting aliases with the graphql-js message', () => {
    const [error] = validate(schema, parse('{ dog { name: nickname name } }'), [ours]);
    expect(error?.message).toMatch(/^Fields "name" conflict because "nickname" and "name" are different fields/);
    expect(error?.locations).toHaveLength(2);
  });

  it('validates 740 copies of one field in linear time and finds a single differing copy', () => {
    const same = `{ ${'me { id } '.repeat(740)}}`;
    expect(conflicts(same)).toBe(0); // warm-up (JIT)
    // CPU time, not wall: on a shared, loaded machine wall time mostly measures waiting for a core.
    // The best of three: process CPU also counts GC threads, which a busy test run keeps working.
    const cpuMs = (): number => {
      const started = process.cpuUsage();
      expect(conflicts(same)).toBe(0);
      const used = process.cpuUsage(started);
      return (used.user + used.system) / 1000;
    };
    expect(Math.min(cpuMs(), cpuMs(), cpuMs())).toBeLessThan(100);
    expect(conflicts(`{ ${'me { id } '.repeat(739)} me { id: name } }`)).toBeGreaterThanOrEqual(1);
  });

  it('refuses, within its work budget, what it cannot check cheaply', () => {
    const tight = createFieldsCanMergeRule({ maxWork: 100 });
    const [error] = validate(schema, parse(`{ ${'me { id } '.repeat(200)}}`), [tight]);
    expect(error?.message).toMatch(/too complex to validate/);
    expect((error?.originalError as { code?: string } | undefined)?.code).toBe('OPERATION_LIMIT_EXCEEDED');
  });
});
