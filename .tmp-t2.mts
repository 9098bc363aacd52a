import { getLlama, LlamaChat } from 'node-llama-cpp';
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as any });
const t0 = performance.now();
const model = await llama.loadModel({ modelPath: '/tmp/gemma.gguf' });
console.log('model loaded', (performance.now()-t0).toFixed(0), 'cpu threads', llama.cpuMathCores, llama.maxThreads);
const context = await model.createContext({ contextSize: 4096, threads: Number(process.env.TH ?? 2) });
const seq = context.getSequence();
const confs: number[] = [];
(seq as any).evaluate = async function* (tokens: any, options: any) {
  const it = seq.evaluateWithMetadata(tokens, { confidence: true }, options);
  let input: any;
  try { while (true) { const { value, done } = await it.next(input); if (done) return; confs.push(value.confidence); input = yield value.token; } }
  finally { await it.return(); }
};
const chat = new LlamaChat({ contextSequence: seq });
const useFns = process.env.FN === '1';
const t1 = performance.now();
const res = await chat.generateResponse([{ type: 'system', text: 'You are helpful.' }, { type: 'user', text: 'What is 6*7? Use the calculator tool.' }], {
  ...(useFns ? { functions: { calculator: { description: 'Evaluate a math expression', params: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] } } } } : {}),
  seed: 42, temperature: Number(process.env.TEMP ?? 0.7), maxTokens: 64,
  onTextChunk: (t) => { process.stdout.write(t); },
} as any);
const dt = performance.now()-t1;
console.log('\nres', JSON.stringify(res.functionCalls), res.metadata.stopReason, 'ms', dt.toFixed(0), 'confs', confs.length, confs.slice(0,8).map(c=>c?.toFixed(3)));
console.log('meter', seq.tokenMeter.usedInputTokens, seq.tokenMeter.usedOutputTokens, 'tok/s', (seq.tokenMeter.usedOutputTokens/(dt/1000)).toFixed(1));
await context.dispose(); await model.dispose(); await llama.dispose();
