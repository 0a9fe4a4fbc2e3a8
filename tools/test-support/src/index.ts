export { requireRedis, requirePostgres, redisUrl, databaseUrl, uniquePrefix } from './services.js';
export { freePort } from './free-port.js';
export { startPrivateRedis } from './private-redis.js';
export type { PrivateRedis } from './private-redis.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
export { forkTs, ask, serveRequests, waitReady, eventually } from './child-process.js';
export { startPrivateRedisCluster } from './private-redis-cluster.js';
export type { PrivateRedisCluster } from './private-redis-cluster.js';
