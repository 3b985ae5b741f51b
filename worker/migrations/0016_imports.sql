-- Importing members from another program. An import is its file's rows, checked when
-- the file arrives and kept here (`data`, until processed), then processed in the background a
-- chunk of rows per batch: members created or updated, each row's points one `import` ledger entry
-- whose key names the member and the row's content, so a row never lands twice. Progress is the
-- counts on `imports`; `next_line` says where processing stands (a chunk's batch moves it only from
-- the value it read, so two workers never process a chunk twice), `lease_until` which worker holds it.
CREATE TABLE imports (
  id TEXT PRIMARY KEY,
  shop_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('staging', 'queued', 'running', 'done', 'failed')),
  dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
  source TEXT NOT NULL,
  -- The header as written, per field read ({"points": "Points balance", ...}), and columns ignored.
  columns TEXT NOT NULL CHECK (json_valid(columns)),
  ignored TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(ignored)),
  total INTEGER NOT NULL,
  -- Rows processing has passed (every row of a dry run, which has nothing to process).
  processed INTEGER NOT NULL DEFAULT 0,
  imported INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  next_line INTEGER NOT NULL DEFAULT 2,
  last_line INTEGER NOT NULL DEFAULT 1,
  lease_until TEXT,
  failure TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX imports_shop ON imports (shop_id, created_at);
CREATE INDEX imports_unfinished ON imports (created_at) WHERE status IN ('staging', 'queued', 'running');

-- Every row of the file, by its line (the header is line 1): waiting, imported, skipped (already
-- imported) or in error with the message that says what to fix.
CREATE TABLE import_rows (
  shop_id TEXT NOT NULL,
  import_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  data TEXT CHECK (data IS NULL OR json_valid(data)),
  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'imported', 'skipped', 'error')),
  message TEXT,
  PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
CREATE INDEX import_rows_errors ON import_rows (import_id, line) WHERE outcome = 'error';

-- Rows that name only an email find their member case-insensitively.
CREATE INDEX customers_shop_email_lower ON customers (shop_id, lower(email));
