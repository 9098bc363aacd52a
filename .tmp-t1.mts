import { getLlama, LlamaChat } from 'node-llama-cpp';
const t0 = performance.now();
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'warn' as any });
console.log('llama', llama.gpu, llama.buildType, (performance.now()-t0).toFixed(0));
const model = await llama.loadModel({ modelPath: '/tmp/gemma.gguf' });
console.log('model loaded', (performance.now()-t0).toFixed(0), model.fileInfo.metadata.general.name, model.trainContextSize);
const context = await model.createContext({ contextSize: 4096 });
const seq = context.getSequence();
const confs: number[] = [];
const orig = seq.evaluate.bind(seq);
(seq as any).evaluate = async function* (tokens: any, options: any) {
  const it = seq.evaluateWithMetadata(tokens, { confidence: true }, options);
  let input: any;
  try { while (true) { const { value, done } = await it.next(input); if (done) return; confs.push(value.confidence); input = yield value.token; } }
  finally { await it.return(); }
};
const chat = new LlamaChat({ contextSequence: seq });
console.log('wrapper', chat.chatWrapper.wrapperName);
const t1 = performance.now();
let n = 0;
const res = await chat.generateResponse([{ type: 'system', text: 'You are helpful.' }, { type: 'user', text: 'What is 6*7? Use the calculator tool.' }], {
  functions: { calculator: { description: 'Evaluate a math expression', params: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] } } },
  seed: 42, temperature: 0.7, maxTokens: 128,
  onTextChunk: (t) => { n++; process.stdout.write(JSON.stringify(t)); },
});
const dt = performance.now()-t1;
console.log('\nres', JSON.stringify(res.response), JSON.stringify(res.functionCalls), res.metadata.stopReason, 'ms', dt.toFixed(0), 'confs', confs.length, confs.slice(0,10));
console.log('meter', seq.tokenMeter.usedInputTokens, seq.tokenMeter.usedOutputTokens);
