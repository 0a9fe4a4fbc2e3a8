import { describeAlertStoreContract } from '../../test/store-contract.js';
import { createMemoryAlertStore } from './memory-store.js';

describeAlertStoreContract('memory', async () => ({ store: createMemoryAlertStore(), close: async () => {} }));
