// One vocabulary with @hardening/alerting: the app reads ALERT_SMS_TO, SLACK_ALERT_CHANNEL and
// TWILIO_FROM_NUMBER, and its former names as deprecated aliases with one warning at start.
import { describe, expect, it } from 'vitest';
import { deprecatedEnvAliases } from '@hardening/alerting';
import { isEnvValidationError } from '@hardening/health';
import { captureLogger } from '@hardening/test-support';
import { loadConfig } from '../../src/config/config.js';
import { resolveDeprecatedEnv } from '../../src/config/deprecated-env.js';
import { buildContext } from '../../src/context.js';
import { deterministicExtractor } from '../../src/domain/extractor.js';
import { processInbound, recordInbound } from '../../src/domain/inbound.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { freshDatabase } from '../support/databases.js';
import { messageSid, systemNumber } from '../support/sms.js';

const operator = '+15550009999';
const secondOperator = '+15550008888';

describe('alerting variables: one vocabulary, deprecated aliases', () => {
  it('uses the alias table of @hardening/alerting itself', () => {
    expect(deprecatedEnvAliases).toEqual({ ADMIN_PHONE: 'ALERT_SMS_TO', SLACK_ALERTS_CHANNEL: 'SLACK_ALERT_CHANNEL', TWILIO_NUMBER: 'TWILIO_FROM_NUMBER' });
  });

  it('reads the former names as the new ones and reports each, by name only', () => {
    const config = loadConfig({ ADMIN_PHONE: '(555) 000-9999', SLACK_ALERTS_CHANNEL: '#ops-alerts', TWILIO_NUMBER: '+15550001111' });
    expect(config.operatorPhones).toEqual([operator]);
    expect(config.slack.channel).toBe('#ops-alerts');
    expect(config.systemNumber).toBe('+15550001111');
    expect(config.deprecations).toEqual([
      { variable: 'ADMIN_PHONE', use: 'ALERT_SMS_TO', outcome: 'read' },
      { variable: 'SLACK_ALERTS_CHANNEL', use: 'SLACK_ALERT_CHANNEL', outcome: 'read' },
      { variable: 'TWILIO_NUMBER', use: 'TWILIO_FROM_NUMBER', outcome: 'read' },
    ]);
  });

  it('the new name wins when both are set; the old one is reported as ignored', () => {
    const config = loadConfig({ ADMIN_PHONE: '+15550007777', ALERT_SMS_TO: operator });
    expect(config.operatorPhones).toEqual([operator]);
    expect(config.deprecations).toEqual([{ variable: 'ADMIN_PHONE', use: 'ALERT_SMS_TO', outcome: 'ignored' }]);
  });

  it('the new names alone: no deprecation at all', () => {
    const config = loadConfig({ ALERT_SMS_TO: operator, SLACK_ALERT_CHANNEL: '#a', TWILIO_FROM_NUMBER: '+15550001111' });
    expect(config.deprecations).toEqual([]);
    expect(resolveDeprecatedEnv({ ALERT_SMS_TO: operator }).deprecations).toEqual([]);
  });

  it('ALERT_SMS_TO is a list: normalised, deduplicated, every number an operator', () => {
    const config = loadConfig({ ALERT_SMS_TO: ` ${operator}, (555) 000-8888 ,${operator}` });
    expect(config.operatorPhones).toEqual([operator, secondOperator]);
    expect(config.env.ALERT_SMS_TO).toEqual([operator, secondOperator]);
  });

  it('a malformed alias is blamed on the name the operator set, never showing the value', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_PHONE: 'call-me-maybe' });
    } catch (e) {
      error = e;
    }
    expect(isEnvValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('ADMIN_PHONE (deprecated: set ALERT_SMS_TO)');
    expect((error as Error).message).not.toContain('call-me-maybe');
    expect(() => loadConfig({ ALERT_SMS_TO: `${operator},12` })).toThrow(/ALERT_SMS_TO/);
  });

  it('production requires TWILIO_FROM_NUMBER, and is satisfied by the deprecated TWILIO_NUMBER', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://db/app',
      PUBLIC_BASE_URL: 'https://a.example',
      ADMIN_TOKEN: 'Zq8v-Rk2mW7pLx4nTc9bJh3sYd6fGa1e',
      TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'x'.repeat(32),
      SLACK_SIGNING_SECRET: 's'.repeat(32),
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdefabcdef',
    };
    expect(() => loadConfig(production)).toThrow(/TWILIO_FROM_NUMBER/);
    expect(loadConfig({ ...production, TWILIO_NUMBER: '+15557770001' }).systemNumber).toBe('+15557770001');
  });

  it('the doctor reads the aliases and lists each as a WARN naming its replacement', async () => {
    const items = await runDoctor(
      { ADMIN_PHONE: operator, SLACK_ALERTS_CHANNEL: '#ops-alerts', ALERT_SMS_TO: secondOperator, PGLITE_DATA_DIR: 'memory://' },
      { timeoutMs: 20_000 },
    );
    const deprecated = items.find((item) => item.name === 'Deprecated variables');
    expect(deprecated?.status).toBe('WARN');
    expect(deprecated?.detail).toBe('ADMIN_PHONE: ignored (ALERT_SMS_TO is set), remove it; SLACK_ALERTS_CHANNEL: rename to SLACK_ALERT_CHANNEL');
    expect(JSON.stringify(items)).not.toContain(operator);
  });

  it('at start: one warning per deprecated variable, naming the new one, never the value', async () => {
    const logger = captureLogger();
    const config = loadConfig({ ADMIN_PHONE: operator, SLACK_ALERTS_CHANNEL: '#secret-room', PGLITE_DATA_DIR: 'memory://', LOG_LEVEL: 'silent' });
    const built = await buildContext(config, { logger, spoolFile: `/tmp/deprecated-env-${process.pid}.jsonl` });
    try {
      const warnings = logger.lines.filter((line) => line.level === 'warn' && /deprecated/i.test(line.msg ?? ''));
      expect(warnings.map((line) => line.msg)).toEqual([
        'ADMIN_PHONE is deprecated: set ALERT_SMS_TO instead (read as ALERT_SMS_TO for now)',
        'SLACK_ALERTS_CHANNEL is deprecated: set SLACK_ALERT_CHANNEL instead (read as SLACK_ALERT_CHANNEL for now)',
      ]);
      expect(logger.text()).not.toContain(operator);
      expect(logger.text()).not.toContain('#secret-room');
      expect(built.ctx.processing.operatorPhones).toEqual([operator]);
    } finally {
      await built.close();
    }
  });
});

describe('every number of ALERT_SMS_TO is an operator', () => {
  it("a second on-call number's text to the system number answers alerts and onboards nobody", async () => {
    const db = await freshDatabase('pglite', 'operators');
    try {
      await addNumbers(db.prisma, [systemNumber], 'SYSTEM');
      const deps = {
        extractor: deterministicExtractor,
        systemNumber,
        operatorPhones: [operator, secondOperator],
        paymentLink: (id: string) => `https://pay.example.test/${id}`,
      };
      const send = async (from: string, body: string) => {
        const sms = { messageSid: messageSid(), from, to: systemNumber, body };
        const inbox = await recordInbound(db.prisma, sms, { MessageSid: sms.messageSid, From: from, To: systemNumber, Body: body });
        return processInbound(db.prisma, inbox.id, deps);
      };
      const fromSecond = await send(secondOperator, 'ACK 7KQ2M');
      expect(fromSecond.kind === 'processed' && fromSecond.result.route).toBe('operator');
      const fromStranger = await send('+15552220001', 'hi');
      expect(fromStranger.kind === 'processed' && fromStranger.result.route).toBe('owner');
      expect(await db.prisma.client.count({ where: { phone: { in: [operator, secondOperator] } } })).toBe(0);
    } finally {
      await db.close();
    }
  });
});
