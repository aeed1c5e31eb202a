/**
 * The search-quality evaluation set: questions a reader would type, each with the demo-library
 * passage that answers it (found by a phrase it contains). Most are worded unlike their passage,
 * so keyword overlap alone does not answer them; `cross` questions are in the other language.
 */
export type EvalCategory = 'en' | 'zh' | 'cross';

export interface EvalCase {
  readonly query: string;
  readonly category: EvalCategory;
  /** Demo book slug and a phrase of the paragraph that answers the query. */
  readonly book: string;
  readonly phrase: string;
}

export const EVAL_SET: readonly EvalCase[] = [
  // English → English
  { category: 'en', query: 'how long was the keeper cut off without supplies during the storm', book: 'keeper-of-gannet-rock', phrase: 'nineteen days' },
  { category: 'en', query: 'why is fog more dangerous than a gale for a lighthouse', book: 'keeper-of-gannet-rock', phrase: 'Fog is worse than storm' },
  { category: 'en', query: 'the light was replaced by an automatic electric lamp', book: 'keeper-of-gannet-rock', phrase: 'would be automated' },
  { category: 'en', query: 'cleaning the glass prisms of the lens', book: 'keeper-of-gannet-rock', phrase: 'polished its prisms' },
  { category: 'en', query: 'what protective equipment does a new beekeeper need', book: 'a-year-with-the-bees', phrase: 'a veil, gloves, a smoker' },
  { category: 'en', query: 'stopping a colony from swarming by giving it more space', book: 'a-year-with-the-bees', phrase: 'want more room' },
  { category: 'en', query: 'how bees survive the cold months without hibernating', book: 'a-year-with-the-bees', phrase: 'do not hibernate' },
  { category: 'en', query: 'which garden flowers give bees easy nectar', book: 'a-year-with-the-bees', phrase: 'lavender, borage, thyme' },
  { category: 'en', query: 'looking at stars through a telescope or binoculars', book: 'lanterns-in-the-dark', phrase: 'four largest moons of Jupiter' },
  { category: 'en', query: 'why red light is used when reading star maps at night', book: 'lanterns-in-the-dark', phrase: 'red cellophane' },
  { category: 'en', query: 'how to find the north star from the big dipper', book: 'lanterns-in-the-dark', phrase: 'pointers' },
  { category: 'en', query: 'how to tell a planet from a star', book: 'lanterns-in-the-dark', phrase: 'Planets do not twinkle' },
  { category: 'en', query: 'long stones laid across the wall to tie both faces together', book: 'stone-on-stone', phrase: 'tie the two faces together' },
  // Chinese → Chinese
  { category: 'zh', query: '唐朝人怎么喝茶', book: 'cha-zhi-lv', phrase: '唐人喝的是茶饼' },
  { category: 'zh', query: '神农和茶的传说', book: 'cha-zhi-lv', phrase: '神农尝百草' },
  { category: 'zh', query: '宋代点茶用什么工具击打出泡沫', book: 'cha-zhi-lv', phrase: '茶筅' },
  { category: 'zh', query: '茶叶怎样传到欧洲和日本', book: 'cha-zhi-lv', phrase: '茶马古道' },
  { category: 'zh', query: '刚孵出来的小蚕叫什么', book: 'shan-zhong-can-shi', phrase: '蚁蚕' },
  { category: 'zh', query: '蚕害怕什么', book: 'shan-zhong-can-shi', phrase: '蚕最怕烟味' },
  { category: 'zh', query: '蚕吐丝结茧', book: 'shan-zhong-can-shi', phrase: '开始吐丝' },
  // Across languages
  { category: 'cross', query: 'tea', book: 'cha-zhi-lv', phrase: '几乎每个国家都有人喝茶' },
  { category: 'cross', query: 'the history of tea cakes in the Tang dynasty', book: 'cha-zhi-lv', phrase: '唐人喝的是茶饼' },
  { category: 'cross', query: 'raising silkworms with grandmother in the mountains', book: 'shan-zhong-can-shi', phrase: '跟外婆一起过一个完整的养蚕季' },
  { category: 'cross', query: '灯塔看守人', book: 'keeper-of-gannet-rock', phrase: 'lit the lamp' },
  { category: 'cross', query: '蜜蜂怎样过冬', book: 'a-year-with-the-bees', phrase: 'do not hibernate' },
  { category: 'cross', query: '北极星', book: 'lanterns-in-the-dark', phrase: 'Polaris is not the brightest star' },
];
