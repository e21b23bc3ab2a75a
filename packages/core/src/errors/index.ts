export { CATALOGUE, type CatalogueEntry, type ErrorCode } from './catalogue.js';
export { GatehouseError, isGatehouseError, type SerializedError } from './error.js';
