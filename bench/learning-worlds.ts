/**
 * The worlds of `npm run bench:learning`: a memory store, the facts the environment holds true, the
 * questions users ask, and how the world changes while turns run. Each world names the weights its
 * optimum is searched over (a grid of the same environment).
 */
import type { Weights } from '../src/ports/learning.js';
import { mulberry32 } from '../src/shared/mulberry32.js';

export interface WorldMemory {
  key: string;
  content: string;
  importance: number;
  /** Age at the start of the run, in seconds (the memory's `created_at` = start − age). */
  ageSeconds: number;
}

export interface Fact {
  topic: string;
  answer: string;
}

export interface World {
  name: string;
  /** What makes the optimum differ from the start. */
  description: string;
  memories: WorldMemory[];
  facts: Fact[];
  /** The capsule's `learning_config` beyond the bench's common settings. */
  learningConfig: Record<string, unknown>;
  /** Grid of the optimum search: each weight's values. */
  grid: Partial<Record<keyof Weights, number[]>>;
  /** Changes to the world after turn `turn` (changing facts): memories to add and the new truth. */
  changes?: (turn: number, random: () => number) => { memories: WorldMemory[]; facts: Fact[] } | undefined;
  /** Control world: the environment's confidence and the user's feedback ignore the context. */
  control?: boolean;
}

const topics = [
  'office wifi password', 'billing contact email', 'staging database host', 'release branch name', 'on-call phone number',
  'vpn gateway address', 'payroll cut-off day', 'support escalation queue', 'backup bucket region', 'design review room',
  'customer success lead', 'api rate limit', 'invoice prefix code', 'parking garage level', 'printer queue name',
  'incident channel name', 'license server port', 'travel booking portal', 'cafeteria closing time', 'security badge office',
];
const words = ['heron', 'maple', 'cobalt', 'quartz', 'ember', 'falcon', 'willow', 'onyx', 'saffron', 'tundra', 'lagoon', 'granite'];
const hour = 3600;
const day = 24 * hour;

/** A seeded PRNG (mulberry32) so every run prints the same figures. */
export const prng = mulberry32;

const valueOf = (random: () => number) => `${words[Math.floor(random() * words.length)]}-${10 + Math.floor(random() * 90)}`;
/** A note in the product's own question-and-answer memory format (the topic appears twice: a strong full-text match). */
const note = (topic: string, value: string) => `Q: what is the ${topic}?\nA: the ${topic} is ${value}`;

export const questionOf = (fact: Fact) => `What is the ${fact.topic}?`;

/** Stable facts: each fact is an old note; recent chatter mentions the topic once but holds no answer. Recency is useless. */
export function stableFacts(seed: number): World {
  const random = prng(seed);
  const facts = topics.map((topic) => ({ topic, answer: valueOf(random) }));
  const memories: WorldMemory[] = [];
  facts.forEach((fact, i) => {
    memories.push({ key: `fact-${i}`, content: note(fact.topic, fact.answer), importance: 0.5, ageSeconds: (20 + random() * 100) * day });
    for (let j = 0; j < 3; j += 1) {
      const second = fact.topic.split(' ').slice(1).join(' ');
      memories.push({
        key: `chat-${i}-${j}`,
        content: `someone asked about the ${fact.topic} ${['today', 'this morning', 'an hour ago'][j]}; the ${second} question keeps coming back`,
        importance: 0.5,
        ageSeconds: (0.05 + random() * 0.5) * day,
      });
    }
  });
  return {
    name: 'stable-facts',
    description: 'old notes hold the answers, fresh chatter does not: similarity over recency',
    memories,
    facts,
    learningConfig: {},
    grid: { alpha: [0.1, 0.5, 1, 2, 3, 4, 5], gamma: [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1] },
  };
}

/** Changing facts: a fact's old note is a strong match, its newer updates weaker ones; only the newest is true. Recency matters. */
export function changingFacts(seed: number): World {
  const random = prng(seed);
  const facts = topics.map((topic) => ({ topic, answer: valueOf(random) }));
  const memories: WorldMemory[] = [];
  facts.forEach((fact, i) => {
    memories.push({ key: `fact-${i}-v0`, content: note(fact.topic, valueOf(random)), importance: 0.5, ageSeconds: (40 + random() * 40) * day });
    memories.push({ key: `fact-${i}-v1`, content: `update: the ${fact.topic} changed to ${fact.answer}`, importance: 0.5, ageSeconds: (0.2 + random() * 2) * day });
  });
  let version = 1;
  return {
    name: 'changing-facts',
    description: 'the newest update is true, older notes match better: recency over similarity',
    memories,
    facts,
    learningConfig: {},
    grid: { alpha: [0.1, 0.3, 0.6, 1, 2, 3, 5], gamma: [0, 0.1, 0.2, 0.4, 0.6, 0.8, 1] },
    changes: (turn, rnd) => {
      if (turn === 0 || turn % 250 !== 0) return undefined;
      version += 1;
      const changed: WorldMemory[] = [];
      for (let k = 0; k < 4; k += 1) {
        const i = Math.floor(rnd() * facts.length);
        facts[i] = { topic: facts[i]!.topic, answer: valueOf(rnd) };
        changed.push({ key: `fact-${i}-v${version}`, content: `update: the ${facts[i]!.topic} changed to ${facts[i]!.answer}`, importance: 0.5, ageSeconds: 0 });
      }
      return { memories: changed, facts: [...facts] };
    },
  };
}

/** Noisy memories: wrong guesses are as similar and newer than the true note, but less important. Importance matters. */
export function noisyMemories(seed: number): World {
  const random = prng(seed);
  const facts = topics.map((topic) => ({ topic, answer: valueOf(random) }));
  const memories: WorldMemory[] = [];
  facts.forEach((fact, i) => {
    memories.push({ key: `fact-${i}`, content: note(fact.topic, fact.answer), importance: 0.6, ageSeconds: (20 + random() * 40) * day });
    for (let j = 0; j < 2; j += 1) {
      memories.push({ key: `guess-${i}-${j}`, content: note(fact.topic, `${valueOf(random)} (a guess)`), importance: 0.4, ageSeconds: (0.1 + random() * 2) * day });
    }
  });
  return {
    name: 'noisy-memories',
    description: 'recent guesses look like facts but carry low importance: importance over recency',
    memories,
    facts,
    learningConfig: {},
    grid: { beta: [0, 0.1, 0.2, 0.4, 0.6, 0.8, 1], gamma: [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1] },
  };
}

/** Cost-sensitive: every token of memory costs reward; one note answers, the rest are long related notes. μ, ν matter. */
export function costSensitive(seed: number): World {
  const random = prng(seed);
  const facts = topics.map((topic) => ({ topic, answer: valueOf(random) }));
  const filler = 'It was discussed at length in the weekly meeting, with the usual caveats about process, owners, reviews, dates and follow-ups that nobody reads.';
  const memories: WorldMemory[] = [];
  facts.forEach((fact, i) => {
    memories.push({ key: `fact-${i}`, content: `${note(fact.topic, fact.answer)}. ${filler}`, importance: 0.5, ageSeconds: (5 + random() * 20) * day });
    for (let j = 0; j < 4; j += 1) memories.push({ key: `context-${i}-${j}`, content: `Background on the ${fact.topic.split(' ')[0]} topic, part ${j + 1}. ${filler} ${filler}`, importance: 0.5, ageSeconds: (1 + random() * 30) * day });
  });
  return {
    name: 'cost-sensitive',
    description: 'memory tokens cost reward (cost_free_tokens 150, 0.4 per 1,000): fewer memories are better',
    memories,
    facts,
    learningConfig: { reward: { cost_free_tokens: 150, cost_penalty_per_1k_tokens: 0.4, cost_penalty_max: 1.5 } },
    grid: { lambda: [0.1, 0.3, 0.6, 1, 2, 5], mu: [0.01, 0.1, 0.3, 0.6, 1.5, 5], nu: [0.01, 0.05, 0.2, 0.5, 1.5, 5] },
  };
}

/** The zero-mean control: the stable-facts store, but confidence and feedback that ignore the context. */
export function control(seed: number): World {
  return { ...stableFacts(seed), name: 'control', description: 'rewards and feedback independent of the weights', grid: {}, control: true };
}
