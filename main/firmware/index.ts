export * from './bitmap.js';
export * from './blocks.js';
export * from './campaign.js';
export * from './errors.js';
export * from './keys.js';
export * from './package.js';
export * from './report.js';
export * from './verify.js';
