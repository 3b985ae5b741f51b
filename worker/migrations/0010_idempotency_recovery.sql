-- An Idempotency-Key whose write committed but whose request failed before storing its answer
-- (an unexpected error, or the isolate dying) must not stay "in progress" for ever. The claim
-- records what the write created (`reference`: a redemption id, a ledger key) so that the answer
-- can be rebuilt from what was committed, and until when the claiming request works on it
-- (`locked_until`): after that, a retry takes the key over and answers from the committed write.
ALTER TABLE idempotency_keys ADD COLUMN reference TEXT;
ALTER TABLE idempotency_keys ADD COLUMN locked_until TEXT;
