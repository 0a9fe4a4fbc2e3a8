export { requireRedis, requirePostgres, redisUrl, databaseUrl, uniquePrefix } from './services.js';
export { freePort } from './free-port.js';
export { startPrivateRedis } from './private-redis.js';
export type { PrivateRedis } from './private-redis.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
export { forkTs, ask, serveRequests, waitReady, eventually } from './child-process.js';
export { createTestDatabase } from './test-database.js';
export type { TestDatabase } from './test-database.js';
