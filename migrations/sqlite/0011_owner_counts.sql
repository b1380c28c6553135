-- Each owner's tasks counted by priority and completion, kept by every write in the owner's row
-- (which every write rewrites anyway), so that a list filtered by priority or completion only
-- counts its matches from one row instead of reading an index entry per match.
ALTER TABLE task_owners ADD COLUMN none_open   INTEGER NOT NULL DEFAULT 0 CHECK (none_open >= 0);
ALTER TABLE task_owners ADD COLUMN none_done   INTEGER NOT NULL DEFAULT 0 CHECK (none_done >= 0);
ALTER TABLE task_owners ADD COLUMN low_open    INTEGER NOT NULL DEFAULT 0 CHECK (low_open >= 0);
ALTER TABLE task_owners ADD COLUMN low_done    INTEGER NOT NULL DEFAULT 0 CHECK (low_done >= 0);
ALTER TABLE task_owners ADD COLUMN medium_open INTEGER NOT NULL DEFAULT 0 CHECK (medium_open >= 0);
ALTER TABLE task_owners ADD COLUMN medium_done INTEGER NOT NULL DEFAULT 0 CHECK (medium_done >= 0);
ALTER TABLE task_owners ADD COLUMN high_open   INTEGER NOT NULL DEFAULT 0 CHECK (high_open >= 0);
ALTER TABLE task_owners ADD COLUMN high_done   INTEGER NOT NULL DEFAULT 0 CHECK (high_done >= 0);

UPDATE task_owners SET
    none_open   = counted.none_open,   none_done   = counted.none_done,
    low_open    = counted.low_open,    low_done    = counted.low_done,
    medium_open = counted.medium_open, medium_done = counted.medium_done,
    high_open   = counted.high_open,   high_done   = counted.high_done
FROM (
    SELECT issuer, subject,
        sum(priority = 0 AND completed = 0) AS none_open,
        sum(priority = 0 AND completed = 1) AS none_done,
        sum(priority = 1 AND completed = 0) AS low_open,
        sum(priority = 1 AND completed = 1) AS low_done,
        sum(priority = 2 AND completed = 0) AS medium_open,
        sum(priority = 2 AND completed = 1) AS medium_done,
        sum(priority = 3 AND completed = 0) AS high_open,
        sum(priority = 3 AND completed = 1) AS high_done
    FROM tasks GROUP BY issuer, subject
) AS counted
WHERE task_owners.issuer = counted.issuer AND task_owners.subject = counted.subject;
