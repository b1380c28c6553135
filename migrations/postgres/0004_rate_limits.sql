-- Fixed-window request counters of the auth endpoints' rate limits, shared by every instance,
-- one row per key (a client address or an account, with the rule's name). window_start is in
-- Unix milliseconds.
CREATE TABLE rate_limits (
    key          text   PRIMARY KEY,
    window_start bigint NOT NULL,
    count        bigint NOT NULL
);
