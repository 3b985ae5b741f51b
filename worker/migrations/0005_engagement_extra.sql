-- Referral fraud rules compare e-mail addresses the way mail servers treat them: lower-case,
-- without a +tag, and for Gmail without dots. The same rule as domain/referrals.ts emailKey(),
-- kept here as virtual generated columns so "has this address ordered before?" is an index lookup
-- and a GDPR redact (email = NULL) clears the key with the address.
ALTER TABLE customers ADD COLUMN email_key TEXT GENERATED ALWAYS AS (
  CASE
    WHEN email IS NULL THEN NULL
    WHEN instr(lower(trim(email)), '@') < 2 THEN lower(trim(email))
    WHEN substr(lower(trim(email)), instr(lower(trim(email)), '@') + 1) IN ('gmail.com', 'googlemail.com') THEN
      replace(
        CASE WHEN instr(substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1), '+') > 0
          THEN substr(lower(trim(email)), 1, instr(lower(trim(email)), '+') - 1)
          ELSE substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1) END,
        '.', '') || '@gmail.com'
    ELSE
      CASE WHEN instr(substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1), '+') > 0
        THEN substr(lower(trim(email)), 1, instr(lower(trim(email)), '+') - 1)
        ELSE substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1) END
      || substr(lower(trim(email)), instr(lower(trim(email)), '@'))
  END
) VIRTUAL;
CREATE INDEX customers_shop_email_key ON customers (shop_id, email_key);

ALTER TABLE orders ADD COLUMN email_key TEXT GENERATED ALWAYS AS (
  CASE
    WHEN email IS NULL THEN NULL
    WHEN instr(lower(trim(email)), '@') < 2 THEN lower(trim(email))
    WHEN substr(lower(trim(email)), instr(lower(trim(email)), '@') + 1) IN ('gmail.com', 'googlemail.com') THEN
      replace(
        CASE WHEN instr(substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1), '+') > 0
          THEN substr(lower(trim(email)), 1, instr(lower(trim(email)), '+') - 1)
          ELSE substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1) END,
        '.', '') || '@gmail.com'
    ELSE
      CASE WHEN instr(substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1), '+') > 0
        THEN substr(lower(trim(email)), 1, instr(lower(trim(email)), '+') - 1)
        ELSE substr(lower(trim(email)), 1, instr(lower(trim(email)), '@') - 1) END
      || substr(lower(trim(email)), instr(lower(trim(email)), '@'))
  END
) VIRTUAL;
CREATE INDEX orders_shop_email_key ON orders (shop_id, email_key);

-- A full refund looks up the referral its order qualified.
CREATE INDEX referrals_order ON referrals (shop_id, order_external_id);
-- Challenge completion counts per challenge (merchant list, analytics).
CREATE INDEX challenge_progress_challenge ON challenge_progress (challenge_id, completed_at);
