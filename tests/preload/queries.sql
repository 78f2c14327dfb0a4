-- queries.sql - sqlite3 builds and queries a generated database (goalloc preload test).
-- Deterministic output: every result is ordered.
PRAGMA cache_size = 2000;
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, price REAL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
INSERT INTO item SELECT i, 'item-' || (i * 7919 % 60000), i % 97, (i * 37 % 1000) / 10.0,
                        printf('%.*c', i % 200, 'z')
FROM n;
CREATE INDEX item_grp ON item(grp, price);
CREATE INDEX item_name ON item(name);
SELECT count(*), sum(grp), round(sum(price), 1), sum(length(note)) FROM item;
SELECT grp, count(*), round(avg(price), 3), max(name) FROM item GROUP BY grp ORDER BY grp LIMIT 10;
SELECT name, price FROM item WHERE grp = 42 ORDER BY price DESC, name LIMIT 5;
SELECT count(DISTINCT name) FROM item;
UPDATE item SET note = note || note WHERE id % 3 = 0;
DELETE FROM item WHERE id % 5 = 0;
SELECT count(*), sum(length(note)) FROM item;
SELECT a.grp, count(*) FROM item a JOIN item b ON a.id = b.id + 1 AND a.grp = b.grp + 1
GROUP BY a.grp ORDER BY 2 DESC, 1 LIMIT 5;
SELECT group_concat(name, ',') FROM (SELECT name FROM item ORDER BY name LIMIT 20);
VACUUM;
SELECT count(*) FROM item;
