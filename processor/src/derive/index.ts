export { computeCost } from './cost.js';
export {
  PriceBook,
  PriceBookError,
  loadPriceBook,
  parsePriceBookData,
  compileMatch,
  DEFAULT_PRICES_FILE,
  type PriceEntry,
  type PriceSet,
  type PriceTier,
} from './pricebook.js';
export { priceToMicros, formatUnits, multiply, add, type Units } from './decimal.js';
