/**
 * The shared input schemas of every service (zod): text a person typed (lib/text.ts rules), names,
 * opaque ids, language tags, http(s) URLs, bounded lists and integers. `check` parses one input
 * and throws BAD_USER_INPUT (lib/errors.ts) naming the field, e.g. "filter.bookIds[3] is not a
 * valid id.", so every subgraph refuses the same things with the same words.
 */
import { z } from 'zod';
import { badInput } from './errors.js';
import { checkText, type CleanTextOptions } from './text.js';

/** Ids are opaque strings issued by some service: bounded, and without `|` (the separator of our pair keys). */
const ID_MAX = 200;

/** Issue messages are predicates; `check` puts the field's name in front. */
const problem = (message: string) => ({ error: message });

/** Text a person typed: cleaned (NFC, trimmed, bidi controls stripped) and bounded, see lib/text.ts. */
export const text = (options: CleanTextOptions) =>
  z.unknown().transform((value, ctx) => {
    const checked = checkText(value, options);
    if ('problem' in checked) {
      ctx.addIssue({ code: 'custom', message: checked.problem });
      return z.NEVER;
    }
    return checked.text;
  });

/** A name or title: text on one line. */
export const name = (max: number, options: Omit<CleanTextOptions, 'max' | 'singleLine'> = {}) => text({ ...options, max, singleLine: true });

export const id = z
  .string(problem('is not a valid id.'))
  .min(1, problem('is not a valid id.'))
  .max(ID_MAX, problem('is not a valid id.'))
  .refine((value) => !value.includes('|'), problem('is not a valid id.'));

/** A BCP 47 language tag such as `en` or `zh-CN` (`zh_CN` is read as `zh-CN`). */
export const language = z
  .string(problem('must be a BCP 47 tag such as "en" or "zh-CN".'))
  .transform((value) => value.trim().replace(/_/g, '-'))
  .refine((tag) => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/.test(tag), problem('must be a BCP 47 tag such as "en" or "zh-CN".'));

/** An absolute http(s) URL, normalised. */
export const httpUrl = (max: number) =>
  name(max).transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL.' });
      return z.NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL.' });
      return z.NEVER;
    }
    return url.toString();
  });

/** At most `max` items, each checked by `item`; empty items dropped and duplicates kept once. */
export const list = <T>(item: z.ZodType<T>, max: number) =>
  z
    .array(item, problem('must be a list.'))
    .max(max, problem(`may have at most ${max} entries.`))
    .transform((items) => [...new Set(items.filter((i) => i !== ''))]);

/** An integer from `min` to `max`. */
export const int = (min: number, max: number) =>
  z
    .number(problem(`must be an integer between ${min} and ${max}.`))
    .int(problem(`must be an integer between ${min} and ${max}.`))
    .min(min, problem(`must be an integer between ${min} and ${max}.`))
    .max(max, problem(`must be an integer between ${min} and ${max}.`));

/** `value` parsed by `schema`, or BAD_USER_INPUT naming `field` (and the position inside it). */
export function check<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = field + issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw badInput(`${where} ${issue.message}`, where);
}
