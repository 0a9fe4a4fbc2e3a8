// `pnpm demo`: plays a scripted day of the reference app against local stand-ins for
// Twilio, Slack and Stripe, and prints what the operator would have seen. Finishes on its
// own in seconds and exits 0 (1 when the day did not go as scripted).
import { runDemo } from './demo/scripted-day.js';

try {
  await runDemo();
  process.exit(0);
} catch (error) {
  console.error('The demo failed:', error);
  process.exit(1);
}
