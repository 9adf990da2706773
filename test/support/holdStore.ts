/**
 * Holds a store open as its writer until killed: the writer-lock tests need a second process.
 *
 * node --import tsx test/support/holdStore.ts <db>   (GREP_PASSPHRASE in env); prints `holding <pid>`
 */
import { KmStore } from '../../main/store/index.js';

const store = KmStore.open(process.argv[2]!, process.env.GREP_PASSPHRASE ?? '', { writer: 'holdStore test process' });
console.log(`holding ${process.pid}`);
setInterval(() => store.groupEpoch, 60_000);
