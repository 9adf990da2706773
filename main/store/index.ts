export * from './audit.js';
export * from './backup.js';
export * from './db.js';
export * from './errors.js';
export * from './firmwareRepo.js';
export * from './sealing.js';
export * from './store.js';
export * from './writerLock.js';
