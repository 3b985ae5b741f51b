-- One row to read by primary key, and a table that takes one insert per write request.
CREATE TABLE members (
  id INTEGER PRIMARY KEY,
  shop_id TEXT NOT NULL,
  external_id TEXT NOT NULL,
  balance INTEGER NOT NULL DEFAULT 0
);
INSERT INTO members (id, shop_id, external_id, balance) VALUES (1, 'shop_baseline', 'member-1', 1250);

CREATE TABLE writes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_id TEXT NOT NULL,
  reference TEXT NOT NULL,
  amount TEXT NOT NULL
);
