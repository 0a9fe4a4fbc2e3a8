// Generates the app's Prisma client before any test file loads.
import { generateClient } from '../scripts/generate-client.mjs';

export default function setup(): void {
  generateClient();
}
