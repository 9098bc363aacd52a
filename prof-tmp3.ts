import { openDatabase } from './src/adapters/store/index.js';
import { insertTenantWithCapsule } from './src/adapters/brain/test-capsules.js';
console.log('a');
const database = await openDatabase({ dataDir: 'memory://' });
await database.migrate();
console.log('b');
const scope = await insertTenantWithCapsule(database);
console.log('c', scope);
