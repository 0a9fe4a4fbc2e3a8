-- Slack signals keep the message timestamp, which chat.getPermalink needs.
ALTER TABLE "slack_signals" ADD COLUMN "message_ts" TEXT;
