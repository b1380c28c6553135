-- Finding tasks among many (issue 21).
--
-- Open tasks with a due, by due: what `overdue=true` counts and pages through. Completed tasks
-- and tasks without a due (most of a large list) are not in it, so counting an owner's overdue
-- tasks reads only theirs.
CREATE INDEX tasks_open_due ON tasks (issuer, subject, due_at) INCLUDE (due_time)
    WHERE NOT completed AND due_at IS NOT NULL;

-- Tasks of one priority by due (`priority=high&sort=due`): the page is the first rows of the
-- index, where tasks_by_due would read past the tasks of every other priority.
CREATE INDEX tasks_by_priority_due ON tasks (issuer, subject, priority, due_at, id)
    WHERE due_at IS NOT NULL;

-- The owner's tasks by priority (by rank, 0 to 3), so that `priority=` alone is counted without
-- reading the tasks. They hold while priorities_at is the list version: every write of this
-- release keeps both in step, and recounts them when a write that does not (an earlier
-- release's, or deleting an account's tasks) left them behind; until then a list counts tasks.
ALTER TABLE task_owners
    ADD COLUMN priorities    bigint[] NOT NULL DEFAULT '{0,0,0,0}' CHECK (cardinality(priorities) = 4),
    ADD COLUMN priorities_at bigint   NOT NULL DEFAULT 0;

UPDATE task_owners SET priorities_at = version;
UPDATE task_owners o SET priorities = ARRAY[c.p0, c.p1, c.p2, c.p3]
FROM (SELECT issuer, subject,
             count(*) FILTER (WHERE priority = 0) AS p0,
             count(*) FILTER (WHERE priority = 1) AS p1,
             count(*) FILTER (WHERE priority = 2) AS p2,
             count(*) FILTER (WHERE priority = 3) AS p3
      FROM tasks GROUP BY issuer, subject) c
WHERE o.issuer = c.issuer AND o.subject = c.subject;
