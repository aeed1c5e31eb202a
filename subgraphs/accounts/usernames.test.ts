import { describe, expect, it } from 'vitest';
import { FolioError } from '../../lib/errors.js';
import { isMixedScript, normalizeUsername, usernameSkeleton, validateUsername } from './usernames.js';

const refusal = (name: string): string | null => {
  try {
    validateUsername(normalizeUsername(name));
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(FolioError);
    expect((error as FolioError).details.field).toBe('username');
    return (error as FolioError).code;
  }
};

describe('usernames (UTS #39)', () => {
  it('gives look-alikes across scripts one skeleton', () => {
    expect(usernameSkeleton('\u0430dmin')).toBe(usernameSkeleton('admin')); // Cyrillic а
    expect(usernameSkeleton('\u03bflga')).toBe(usernameSkeleton('olga')); // Greek ο
    expect(usernameSkeleton('раураl')).toBe(usernameSkeleton('paypal'));
    expect(usernameSkeleton('adrnin')).toBe(usernameSkeleton('admin')); // "rn" looks like "m"
    expect(usernameSkeleton('ada')).not.toBe(usernameSkeleton('adb'));
    expect(usernameSkeleton('olaf')).not.toBe(usernameSkeleton('ölaf')); // a diacritic is a visible difference
  });

  it('refuses names that mix scripts and accepts single-script names in any script', () => {
    expect(isMixedScript('\u0430dmin')).toBe(true); // Cyrillic + Latin
    expect(isMixedScript('ivan.петров')).toBe(true);
    expect(isMixedScript('αβγa')).toBe(true); // Greek + Latin
    for (const name of ['admin', 'user_42', 'müller', 'иван', 'αλέξης', 'محمد', 'राहुल', '李小龍', 'くまモン', '日本語かな', 'カタカナ漢字', '한국어漢字', '中文ㄅ'])
      expect({ name, mixed: isMixedScript(name) }).toEqual({ name, mixed: false });
  });

  it('validates length, characters and script mixing with BAD_USER_INPUT on the username field', () => {
    expect(refusal('Ada.Lovelace')).toBeNull();
    expect(refusal('иван_42')).toBeNull();
    expect(refusal('ab')).toBe('BAD_USER_INPUT');
    expect(refusal('x'.repeat(33))).toBe('BAD_USER_INPUT');
    expect(refusal('../../etc')).toBe('BAD_USER_INPUT');
    expect(refusal('\u0430dmin')).toBe('BAD_USER_INPUT');
  });

  it('normalises width and case before anything else', () => {
    expect(normalizeUsername(' ＡＬＩＣＥ ')).toBe('alice');
  });
});
