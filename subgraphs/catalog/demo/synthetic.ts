/**
 * Deterministic synthetic books for benchmarks and load tests: same options, same text.
 * Sentences come from templates over small vocabularies, so text varies like prose (lengths,
 * words, punctuation) without any copyrighted source.
 */
import type { BookSource } from '../epub/build.js';

export interface SyntheticBookOptions {
  readonly chapters: number;
  readonly paragraphsPerChapter: number;
  /** Any integer; equal seeds give equal books. */
  readonly seed: number;
  /** 'en' or a Chinese tag ('zh', 'zh-CN', …). */
  readonly language: string;
}

type Random = () => number;

/** mulberry32 in [0, 1): a tiny seeded PRNG (Math.random cannot be seeded; a dependency is overkill). The one copy: tests and benches use it too. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

const EN = {
  subjects: ['the keeper', 'the old miller', 'a young surveyor', 'the ferryman', 'my grandmother', 'the cartographer', 'a travelling clockmaker', 'the harbour master', 'the village teacher', 'a stranger in a grey coat', 'the botanist', 'the night watchman'],
  verbs: ['carried', 'studied', 'mended', 'remembered', 'followed', 'painted', 'counted', 'abandoned', 'measured', 'described', 'guarded', 'discovered'],
  adjectives: ['narrow', 'forgotten', 'silver', 'crooked', 'patient', 'restless', 'ancient', 'quiet', 'weathered', 'luminous', 'heavy', 'fragile'],
  objects: ['lantern', 'map of the coast', 'bundle of letters', 'wooden bridge', 'orchard wall', 'brass compass', 'ledger of tides', 'set of keys', 'garden gate', 'ship in a bottle', 'weather vane', 'stone well'],
  places: ['along the river', 'beyond the salt marsh', 'under the railway arches', 'at the edge of the forest', 'in the upstairs room', 'on the windy headland', 'behind the chapel', 'across the frozen lake', 'near the market square', 'inside the empty mill'],
  times: ['Before dawn', 'Late that autumn', 'Every Sunday', 'For three long winters', 'On the morning of the fair', 'Years afterwards', 'When the snow melted', 'During the long drought', 'At the turn of the century', 'That same evening'],
  tails: ['and nobody asked why', 'as if the world depended on it', 'while the bells rang for supper', 'until the light failed', 'though the rain never stopped', 'without saying a word to anyone', 'because it seemed the right thing to do', 'for reasons that were never written down'],
  titles: ['Arrivals', 'The Lantern', 'Low Tide', 'Letters', 'The Survey', 'A Hard Winter', 'The Fair', 'Departures', 'The Orchard', 'Salt and Iron', 'The Bridge', 'Night Crossing'],
};

const ZH = {
  subjects: ['老船夫', '守林人', '年轻的测绘员', '外婆', '镇上的教书先生', '一个穿灰衣服的陌生人', '磨坊主', '采药的姑娘', '钟表匠', '渡口的孩子', '老邮差', '植物学家'],
  verbs: ['修好了', '记下了', '带走了', '找到了', '画下了', '守护着', '数着', '想起了', '丈量了', '描述了', '收藏了', '放下了'],
  adjectives: ['破旧的', '安静的', '银色的', '弯弯的', '古老的', '沉甸甸的', '被遗忘的', '发光的', '潮湿的', '细长的'],
  objects: ['灯笼', '一张海岸地图', '一捆旧信', '木桥', '果园的围墙', '铜罗盘', '潮汐记录本', '一串钥匙', '竹篮', '石井', '风向标', '一本账簿'],
  places: ['在河边', '在盐沼的另一头', '在铁路桥下', '在森林边上', '在楼上的小屋里', '在起风的山头', '在祠堂后面', '在结冰的湖面上', '在集市旁边', '在空荡荡的磨坊里'],
  times: ['天还没亮', '那年深秋', '每个星期天', '连着三个冬天', '赶集的那天早上', '许多年以后', '雪化的时候', '大旱那一年', '那天傍晚', '清明前后'],
  tails: ['谁也没有问为什么', '好像整个世界都靠它了', '晚饭的钟声正响着', '一直到天黑', '雨一直没有停', '没有对任何人说起', '因为这件事本该如此', '原因从来没有人写下来'],
  titles: ['到来', '灯笼', '退潮', '旧信', '测绘', '寒冬', '赶集', '离别', '果园', '盐与铁', '木桥', '夜渡'],
};

function englishSentence(random: Random): string {
  const subject = pick(random, EN.subjects);
  const core = `${subject} ${pick(random, EN.verbs)} the ${pick(random, EN.adjectives)} ${pick(random, EN.objects)} ${pick(random, EN.places)}`;
  switch (between(random, 0, 3)) {
    case 0:
      return `${pick(random, EN.times)}, ${core}.`;
    case 1:
      return `${core[0]!.toUpperCase()}${core.slice(1)}, ${pick(random, EN.tails)}.`;
    case 2:
      return `Was it true that ${core}?`;
    default:
      return `“${pick(random, EN.times)},” said ${subject}, “I ${pick(random, EN.verbs)} a ${pick(random, EN.adjectives)} ${pick(random, EN.objects)}.”`;
  }
}

function chineseSentence(random: Random): string {
  const core = `${pick(random, ZH.subjects)}${pick(random, ZH.places)}${pick(random, ZH.verbs)}${pick(random, ZH.adjectives)}${pick(random, ZH.objects)}`;
  switch (between(random, 0, 2)) {
    case 0:
      return `${pick(random, ZH.times)}，${core}。`;
    case 1:
      return `${core}，${pick(random, ZH.tails)}。`;
    default:
      return `“${pick(random, ZH.times)}，${core}吗？”`;
  }
}

export function generateSyntheticBook(options: SyntheticBookOptions): BookSource {
  const { chapters, paragraphsPerChapter, seed, language } = options;
  if (!Number.isSafeInteger(chapters) || chapters < 1) throw new RangeError('chapters must be a positive integer.');
  if (!Number.isSafeInteger(paragraphsPerChapter) || paragraphsPerChapter < 1) {
    throw new RangeError('paragraphsPerChapter must be a positive integer.');
  }
  const random = seededRandom(seed);
  const chinese = language.toLowerCase().startsWith('zh');
  const sentence = chinese ? chineseSentence : englishSentence;
  const joiner = chinese ? '' : ' ';
  return {
    title: chinese ? `合成之书 第${seed}卷` : `A Synthetic Book, Volume ${seed}`,
    authors: [chinese ? '合成作者' : 'Synthetic Author'],
    language: chinese ? 'zh-CN' : 'en',
    description: chinese ? '用于性能测试的合成文本。' : 'Synthetic text for benchmarks.',
    subjects: ['Synthetic'],
    chapters: Array.from({ length: chapters }, (_, c) => ({
      title: chinese ? `第${c + 1}章 ${pick(random, ZH.titles)}` : `Chapter ${c + 1}: ${pick(random, EN.titles)}`,
      paragraphs: Array.from({ length: paragraphsPerChapter }, () =>
        Array.from({ length: between(random, 2, 7) }, () => sentence(random)).join(joiner),
      ),
    })),
  };
}
