export { cryptoIdSource } from './crypto-id-source.js';
