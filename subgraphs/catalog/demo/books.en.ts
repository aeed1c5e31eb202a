/** Demo library, English titles. Original text written for Folio; free to use in tests and demos. */
import type { DemoBook } from './types.js';

export const lighthouseBook: DemoBook = {
  slug: 'keeper-of-gannet-rock',
  title: 'The Keeper of Gannet Rock',
  authors: ['Elin Marsh'],
  language: 'en',
  publisher: 'Folio Demo Press',
  description: 'A year in the life of the last keeper of a lighthouse on a bare rock in the northern sea.',
  subjects: ['Lighthouses', 'The sea', 'Memoir'],
  chapters: [
    {
      title: 'The Lamp Room',
      paragraphs: [
        'Every evening at sunset Tomas climbed the hundred and twelve steps of the tower and lit the lamp. The brass burner hissed, the great glass lens began its slow turn, and a white beam swept across the water every fifteen seconds.',
        'The lens was older than the keeper. It had been ground in a workshop far inland and carried to the rock in crates packed with straw. Tomas polished its prisms each morning with a soft cloth, because a single smear of salt could dim the light that ships depended on.',
        'From the gallery he could see the whole of his world: the landing stage, the oil store, the rain barrels, the gannets on the ledges, and beyond them nothing but grey water rolling toward the horizon.',
      ],
    },
    {
      title: 'Winter Storms',
      paragraphs: [
        'In January the gales arrived from the north-west. Waves broke over the landing stage and flung spray against the windows of the kitchen, forty feet above the sea. The whole tower hummed like a plucked string.',
        'During the worst storm the supply boat could not come for nineteen days. Tomas rationed the paraffin, baked flat bread on the stove, and wrote in the log every four hours: wind force, sea state, visibility, and whether the light was burning well.',
        'On the twentieth morning the wind dropped. A fishing trawler passed close to the rock and sounded its horn three times, which every keeper understands to mean thank you.',
      ],
    },
    {
      title: 'Fog Signals',
      paragraphs: [
        'Fog is worse than storm for a lighthouse keeper, because the beam that reaches twenty miles on a clear night disappears into a white wall a few yards from the glass.',
        'When the fog rolled in, Tomas started the compressor for the foghorn. Two long blasts every minute, a deep note that sailors called the cow of Gannet Rock. He stayed awake through the night to keep the engine running.',
        'Once, in a fog as thick as wool, he heard oars and voices below the rock. He shouted and rang the hand bell until a small rowing boat found the landing stage, carrying two lost lobster fishermen who stayed for tea until the fog lifted.',
      ],
    },
    {
      title: 'The Last Watch',
      paragraphs: [
        'The letter from the lighthouse board arrived in spring. The light would be automated: a sealed electric lamp, a battery bank, and a radio link to the mainland. No keeper would be needed.',
        'Tomas spent his final weeks writing down everything he knew about the rock, the currents around it, the birds that nested on it, and the sounds the tower made in different winds. He left the notebook in the lamp room for whoever might come to service the machines.',
        'On his last evening he climbed the steps once more and watched the new lamp switch itself on at dusk. It turned exactly as the old one had, and the gannets, who had never cared who lit it, settled down to sleep.',
      ],
    },
  ],
};

export const beekeepingBook: DemoBook = {
  slug: 'a-year-with-the-bees',
  title: 'A Year with the Bees: Beekeeping and the Pollinator Garden',
  authors: ['Harriet Oduya', 'Sam Pell'],
  language: 'en',
  publisher: 'Folio Demo Press',
  description: 'A practical guide to keeping a first beehive and planting a garden that feeds bees from spring to autumn.',
  subjects: ['Beekeeping', 'Gardening', 'Pollinators'],
  chapters: [
    {
      title: 'Choosing a Hive',
      paragraphs: [
        'Most beginners start with a framed hive, a stack of wooden boxes in which the bees build comb on removable frames. Frames let the beekeeper lift out the comb, look for eggs and check the health of the colony without destroying anything.',
        'Place the hive where it gets morning sun and shelter from the wind, with the entrance facing away from paths and washing lines. Bees fly out in a straight line, and a hedge or fence in front of the hive lifts their flight path above people’s heads.',
        'A beginner needs a veil, gloves, a smoker and a hive tool. The smoker calms the colony by masking the alarm scent that guard bees release; a few cool puffs at the entrance are enough.',
      ],
    },
    {
      title: 'Spring Inspections',
      paragraphs: [
        'On the first warm day of spring, when the willow is in flower and bees are carrying yellow pollen home, open the hive for a short inspection. Look for the queen, or at least for fresh eggs standing upright in the bottom of the cells.',
        'A strong colony in April will want more room. Add a second box before the frames are crowded, otherwise the bees may prepare to swarm: they raise new queens in large peanut-shaped cells and half of the colony leaves with the old queen.',
        'Keep a notebook for each hive. Write down the date, the weather, the number of frames covered with bees, and anything odd. Patterns that are invisible in one season become obvious over three.',
      ],
    },
    {
      title: 'Planting for Pollinators',
      paragraphs: [
        'Bees need flowers from the first crocus to the last ivy bloom. A garden that is full of colour in June but bare in March and September leaves them hungry at the two hardest times of the year.',
        'Choose open, simple flowers where the nectar is easy to reach: lavender, borage, thyme, sunflowers, apple blossom and clover. Heavily doubled roses and bedding plants often look generous but offer little food.',
        'Leave a corner of the lawn unmown. Dandelions and white clover feed honeybees and bumblebees alike, and a strip of long grass shelters the solitary bees that nest in the ground.',
      ],
    },
    {
      title: 'Honey Harvest and Winter',
      paragraphs: [
        'Take honey only from the boxes above the brood, and only when most cells are capped with wax, which shows the bees have dried the nectar enough for it to keep.',
        'Leave the colony at least twenty kilograms of its own stores for winter. Bees do not hibernate; they cluster around the queen and shiver their flight muscles to keep the centre of the cluster warm all winter long.',
        'On still winter days, put an ear to the side of the hive. A soft, steady hum means the colony is alive, and the gardener can start planning next spring’s flowers.',
      ],
    },
  ],
};

export const astronomyBook: DemoBook = {
  slug: 'lanterns-in-the-dark',
  title: 'Lanterns in the Dark: A First Guide to the Night Sky',
  authors: ['Priya Castellan'],
  language: 'en',
  publisher: 'Folio Demo Press',
  description: 'How to find constellations, planets and the Milky Way with nothing more than your eyes and a pair of binoculars.',
  subjects: ['Astronomy', 'Stars', 'Stargazing'],
  chapters: [
    {
      title: 'Letting Your Eyes Adjust',
      paragraphs: [
        'The first instrument of astronomy is the human eye, and it needs time. After twenty minutes away from bright lights the pupils widen and the retina becomes far more sensitive, revealing stars that were invisible when you first stepped outside.',
        'Use a torch covered with red cellophane to read star charts. Red light disturbs night vision much less than white light, which is why observatories glow a dim red after dark.',
      ],
    },
    {
      title: 'Finding the Pole Star',
      paragraphs: [
        'In the northern hemisphere, start with the seven bright stars of the Plough, also called the Big Dipper. The two stars at the end of its bowl are the pointers: follow the line between them upward about five times their distance and you reach Polaris.',
        'Polaris is not the brightest star in the sky, but it barely moves. The whole sky turns around it through the night, so the pole star has guided travellers and sailors for centuries.',
        'Watch the Plough for a few hours and you will see it swing around Polaris like the hand of a slow clock, a reminder that it is the Earth, not the sky, that is turning.',
      ],
    },
    {
      title: 'Planets and the Moon',
      paragraphs: [
        'Planets do not twinkle the way stars do. A steady, bright point near the path of the Sun and Moon is probably Venus, Jupiter or Saturn, and over a few weeks it will drift against the background stars.',
        'Binoculars held steady against a fence post will show the four largest moons of Jupiter as tiny beads of light in a line. Their positions change from night to night as they orbit the giant planet.',
        'The Moon is best observed when it is half lit, not full. Along the line between light and shadow, the low sunlight throws long shadows from crater walls and mountains, and the surface looks carved.',
      ],
    },
    {
      title: 'The Milky Way',
      paragraphs: [
        'On a moonless summer night far from city lights, a pale band of light arches across the sky. This is the Milky Way, the combined glow of billions of distant stars in the disc of our own galaxy.',
        'Sweep along it slowly with binoculars and the haze breaks into countless stars, dark lanes of dust, and small glowing clouds where new stars are being born.',
        'Light pollution has hidden the Milky Way from most people alive today. Seeing it once, with your own eyes, is worth a long drive and a cold night.',
      ],
    },
  ],
};

export const drystoneBook: DemoBook = {
  slug: 'stone-on-stone',
  title: 'Stone on Stone: Building a Dry-Stone Wall',
  authors: ['Owen Farrier'],
  language: 'en-GB',
  publisher: 'Folio Demo Press',
  description: 'The old craft of building field walls without mortar, explained step by step.',
  subjects: ['Crafts', 'Dry-stone walling', 'Countryside'],
  chapters: [
    {
      title: 'Reading the Stone',
      paragraphs: [
        'A dry-stone wall stands for two hundred years because of friction and gravity alone. Every stone is chosen and placed so that its weight presses the wall together instead of pushing it apart.',
        'Before building, sort the stone into heaps: large foundation stones, long through-stones, ordinary building stones, small hearting for the middle, and flat copes for the top.',
      ],
    },
    {
      title: 'Foundations and Batter',
      paragraphs: [
        'Dig a shallow trench down to firm subsoil and lay the biggest stones with their length running into the wall. A wall is only as good as its first course.',
        'Stretch string lines between wooden frames so that both faces lean gently inward as they rise. This slope, called the batter, lets the two faces support each other.',
        'Set each stone across the joint of the two below it, one over two and two over one, like bricks. Fill the centre tightly with hearting so nothing can shift when the ground freezes.',
      ],
    },
    {
      title: 'Through-Stones and Copes',
      paragraphs: [
        'Halfway up, lay a row of long through-stones that cross the full width of the wall and tie the two faces together.',
        'Finish with a row of copes set on edge, leaning against each other like books on a shelf. Their weight locks the top of the wall and sheds the rain.',
      ],
    },
  ],
};
