-- Indexes the hot paths need, found by EXPLAIN QUERY PLAN of every statement they run
-- (`npm run bench`, bench/lib/explain.mjs). The storefront state read and order ingestion already
-- search an index for every statement; what scanned was the CORS origin check.
--
-- Storefront origins, indexed. A preflight (and any storefront response before its shop is known)
-- asks "does some shop list this origin?", which over shops.origins (a JSON array) can only be
-- answered by reading every shop and parsing its list: 20 µs with one shop, 2.3 ms with 10,000 in
-- the database, and the same full scan for any origin no shop lists. JSON values cannot be indexed
-- directly, so the triggers below keep this table equal to the union of every shop's list, and the
-- lookup becomes one primary-key search.
CREATE TABLE shop_origins (
  origin TEXT NOT NULL,
  shop_id TEXT NOT NULL,
  PRIMARY KEY (origin, shop_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO shop_origins (origin, shop_id)
SELECT json_each.value, shops.id FROM shops, json_each(shops.origins);

CREATE TRIGGER shop_origins_on_insert
AFTER INSERT ON shops
BEGIN
  INSERT OR IGNORE INTO shop_origins (origin, shop_id) SELECT value, NEW.id FROM json_each(NEW.origins);
END;

CREATE TRIGGER shop_origins_on_update
AFTER UPDATE OF origins, id ON shops
BEGIN
  DELETE FROM shop_origins WHERE shop_id = OLD.id;
  INSERT OR IGNORE INTO shop_origins (origin, shop_id) SELECT value, NEW.id FROM json_each(NEW.origins);
END;

CREATE TRIGGER shop_origins_on_delete
AFTER DELETE ON shops
BEGIN
  DELETE FROM shop_origins WHERE shop_id = OLD.id;
END;

-- Removing a shop's origins by shop (update, delete) searches this instead of the whole table.
CREATE INDEX shop_origins_shop ON shop_origins (shop_id);
