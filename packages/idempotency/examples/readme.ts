import { createIdempotencyGuard, createMemoryStore } from '@hardening/idempotency';

const guard = createIdempotencyGuard({ store: createMemoryStore() });

let sent = 0;
const sendReply = () => `reply #${++sent}`;

console.log(await guard.run('SM123', sendReply)); // reply #1
console.log(await guard.run('SM123', sendReply)); // reply #1  (replayed: not sent again)
console.log(sent); // 1
