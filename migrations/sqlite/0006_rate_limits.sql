-- Fixed-window request counters of the auth endpoints' rate limits, one row per key (a client
-- address or an account, with the rule's name). window_start is in Unix milliseconds.
CREATE TABLE rate_limits (
    key          TEXT    NOT NULL PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
