/** Generated prose for re-anchoring tests and benchmarks, English-like or Chinese, repeatable from a seed. */
import { seededRandom } from './random.js';

export { seededRandom };

const WORDS = (
  'the of and to in that was he it with as his on be at by had not are but from or have an they which one you ' +
  'were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over ' +
  'man me even most made after also did many before must through back years where much your way well down ' +
  'should because each just those people how too little state good very make world still own see men work long ' +
  'get here between both life being under never day same another know while last might us great old year off ' +
  'come since against go came right used take three house garden river letter morning window silence winter ' +
  'lantern harbour promise mirror shadow orchard violin captain meadow kitchen journey thunder whisper candle ' +
  'ribbon cathedral pocket ladder horizon velvet compass library sparrow bridge fever quarrel island station'
).split(' ');

const HANZI =
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经' +
  '十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形' +
  '相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展';

export type Language = 'en' | 'zh';

/** A word drawn with a Zipf-like bias, so common words repeat the way they do in prose. */
function word(rnd: () => number): string {
  return WORDS[Math.floor(WORDS.length * rnd() * rnd())]!;
}

export function sentence(rnd: () => number, language: Language = 'en'): string {
  if (language === 'zh') {
    const length = 8 + Math.floor(rnd() * 24);
    let s = '';
    for (let i = 0; i < length; i += 1) s += HANZI[Math.floor(HANZI.length * rnd())];
    return s + (rnd() < 0.2 ? '！' : '。');
  }
  const length = 6 + Math.floor(rnd() * 18);
  const words: string[] = [];
  for (let i = 0; i < length; i += 1) words.push(word(rnd));
  const first = words[0]!;
  words[0] = first[0]!.toUpperCase() + first.slice(1);
  return words.join(' ') + (rnd() < 0.1 ? '?' : '.');
}

export function paragraph(rnd: () => number, language: Language = 'en'): string {
  const count = 3 + Math.floor(rnd() * 5);
  const sentences: string[] = [];
  for (let i = 0; i < count; i += 1) sentences.push(sentence(rnd, language));
  return sentences.join(language === 'zh' ? '' : ' ');
}

/** Paragraphs are joined by a blank line, as plain-text chapters are rendered. */
export const PARAGRAPH_BREAK = '\n\n';

/** A different word to put in place of `old` (never equal to it). */
export function replacementWord(rnd: () => number, old: string): string {
  for (;;) {
    const w = word(rnd);
    if (w !== old.toLowerCase()) return w;
  }
}
