export { startEval, startEvalFromRequest } from './start-eval.js';
export { runEval, summariesOf, type EvalProgress } from './run-eval.js';
export { evaluateItem, DEFAULT_EVAL_SYSTEM_PROMPT } from './evaluate-item.js';
export { listEvals, getEval, evalRunView, evalResultView } from './eval-views.js';
export { startEvalInBackground, stopBackgroundEvals, recoverInterruptedEvals } from './background-evals.js';
export { parseDataset, type EvalDataset, type EvalRunSummary } from '../../core/eval/index.js';
