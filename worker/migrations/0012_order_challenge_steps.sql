-- What each paid order added to the member's challenges (JSON [{challengeId, kind, amount}]), so a
-- refund or cancellation takes back exactly that from challenges not yet completed. Orders paid
-- before this migration have no record and keep their progress.
ALTER TABLE orders ADD COLUMN challenge_steps TEXT NOT NULL DEFAULT '[]';
