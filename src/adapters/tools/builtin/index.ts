export { createBuiltinTool, builtinToolNames, isBuiltinToolName, type BuiltinToolName, type BuiltinToolDependencies } from './create-builtin-tool.js';
export { calculatorLimits, calculatorWorkerCount, closeCalculatorWorkers, createCalculatorTool, type CalculatorLimits } from './calculator-tool.js';
export { createCurrentTimeTool, isoInTimeZone } from './current-time-tool.js';
export { createMemorySearchTool, type MemoryRecall } from './memory-search-tool.js';
export { createHttpFetchTool, type HttpFetchConfig } from './http-fetch-tool.js';
