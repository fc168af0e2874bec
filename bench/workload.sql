-- SPDX-License-Identifier: MIT
-- bench/workload.sql - sqlite3 workload of bench/compare.sh: 200k rows made
-- by a recursive CTE, an index, aggregates.  Run as: sqlite3 :memory: < workload.sql
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, payload BLOB, score REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO t(grp, name, payload, score)
SELECT i % 97, 'name-' || i || '-' || hex(randomblob(4)),
       zeroblob(16 + (i % 48) * 16), (i * 7919) % 1000 / 7.0
FROM n;
CREATE INDEX t_grp_score ON t(grp, score);
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), sum(length(payload)), avg(score), max(name)
FROM t GROUP BY grp ORDER BY grp LIMIT 5;
SELECT count(*) FROM t WHERE grp = 42 AND score > 50;
SELECT count(DISTINCT substr(name, 1, 9)) FROM t;
UPDATE t SET score = score + 1 WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(score) FROM t;
