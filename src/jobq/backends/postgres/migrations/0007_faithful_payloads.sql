-- Payloads as json, not jsonb: json keeps the text as written, so what goes in comes out, number types and
-- digits included (jsonb turns 1e16 into the integer 10000000000000000, 1.5e300 into an integer, -0.0 into 0).
-- Nothing queries into a payload. The audit's detail holds the edited payloads of replays, so it follows.
-- Rows already stored keep jsonb's normalised text: their original digits are gone, but every row is kept.
ALTER TABLE jobs ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE dead_letters ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE dlq_audit ALTER COLUMN detail TYPE json USING detail::json;
ALTER TABLE dlq_audit ALTER COLUMN detail SET DEFAULT '{}';
