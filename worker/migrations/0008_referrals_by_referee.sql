-- A referee known by identity (a signup reported with its referral code) is matched to their
-- first paid order by customer, and erased with them: both look referrals up by referee.
CREATE INDEX referrals_referee ON referrals (referee_customer_id);
