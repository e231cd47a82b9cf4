-- Counters and histogram buckets kept by workers in the same transactions as the outcomes they count.
-- le: a histogram bucket's upper bound, -1 its running sum, -2 a plain counter (see jobq/tally.py).
CREATE TABLE tally (
    name  TEXT NOT NULL,
    queue TEXT NOT NULL,
    le    REAL NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (name, queue, le)
) STRICT, WITHOUT ROWID;
