-- Statements of expressions.sql whose result in weir is allowed to differ from
-- PostgreSQL 15's, each under a `-- why:` line that says why weir differs and
-- whether that will change. tests/integration/pg_corpus.rs fails on any other
-- difference, and on an entry here that matches again (remove it then).
-- Written by tests/pg_corpus/allow.py from a run of the tests; review its diff.

-- why: [aggregates, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT max(j -> 'a') FROM corpus_t;

-- why: [aggregates, answer] avg of integers is double precision (numeric in PostgreSQL), sum of bigint is bigint, stddev/variance/every/ordered-set aggregates are missing. Will change.
SELECT count(*), sum(qty), avg(qty) FROM corpus_events;
SELECT sum(id), avg(id) FROM corpus_t;
SELECT avg(qty) FROM corpus_events WHERE grp = 'a';
SELECT sum(amount), avg(amount), min(amount), max(amount) FROM corpus_events;
SELECT sum(i8) FROM corpus_t WHERE id < 5;
SELECT sum(i8) FROM corpus_t;
SELECT avg(i8) FROM corpus_t WHERE id IN (1, 2, 3);
SELECT stddev_pop(qty), var_pop(qty) FROM corpus_events;
SELECT stddev_samp(amount), var_samp(amount) FROM corpus_events;
SELECT stddev(qty) FROM corpus_events WHERE id = 1;
SELECT grp, sum(amount), avg(amount) FROM corpus_events GROUP BY grp ORDER BY grp;
SELECT avg(DISTINCT amount) FROM corpus_events;
SELECT sum(qty::bigint * 1000000000) FROM corpus_events;
SELECT avg(x) FROM generate_series(1, 4) x;

-- why: [aggregates, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT stddev(qty), variance(qty) FROM corpus_events;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) FROM corpus_events;
SELECT percentile_cont(ARRAY[0.25, 0.75]) WITHIN GROUP (ORDER BY score) FROM corpus_events;
SELECT mode() WITHIN GROUP (ORDER BY grp) FROM corpus_events;

-- why: [arrays, answer] arrays are Arrow lists: one dimension, lower bound 1, int8 elements from DataFusion's functions, no text input of arrays. Will change.
SELECT ARRAY[1.5, 2];
SELECT ARRAY[1, 2.5];
SELECT ARRAY(SELECT id FROM corpus_t ORDER BY id DESC);
SELECT ARRAY['a', 'b']::varchar(1)[];
SELECT (SELECT array_agg(x) FROM generate_series(1, 3) x);

-- why: [arrays, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT ARRAY[[1, 2], [3, 4]];
SELECT '{{1,2},{3,4}}'::int[];
SELECT '[0:1]={7,8}'::int[];
SELECT array_length(ARRAY[[1, 2], [3, 4]], 2);
SELECT cardinality(ARRAY[[1, 2], [3, 4]]);
SELECT ARRAY[[1, 2]] || ARRAY[3, 4];
SELECT (ARRAY[[1, 2], [3, 4]])[1:2][2];
SELECT ('[0:2]={a,b,c}'::text[])[0];
SELECT array_dims(ARRAY[[1, 2, 3], [4, 5, 6]]);
SELECT array_dims('[0:2]={a,b,c}'::text[]);
SELECT array_ndims(ARRAY[[1], [2]]);
SELECT array_fill(0, ARRAY[2, 2]);
SELECT array_agg(ARRAY[id, id * 2] ORDER BY id) FROM corpus_t WHERE id < 3;

-- why: [arrays, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT ARRAY[[1, 2], [3]];

-- why: [boolean, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT true = 't';

-- why: [casts, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT true::bigint;

-- why: [casts, answer] unconstrained numeric casts get ten decimals, char(n) is not padded, text casts of floats and some inputs differ. Will change.
SELECT 'ab'::char(4);
SELECT octet_length('ab'::char(4));
SELECT 'abcdef'::char(3);
SELECT 'ab'::char(4) = 'ab  '::char(4);
SELECT 'xyz'::char;
SELECT '1.5'::jsonb::numeric;
SELECT 65::"char";
SELECT k, val::numeric FROM corpus_kv WHERE k IN ('one', 'two', 'space') ORDER BY k;

-- why: [casts, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT '03/10/2024'::date;
SELECT 'March 10, 2024'::date;
SELECT '2024-03-10 24:00:00'::timestamp;
SELECT 'infinity'::numeric::float8;

-- why: [casts, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT -42::text;
SELECT '"abc"'::jsonb::int;

-- why: [conditional, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT coalesce(1, 'a');
SELECT CASE WHEN true THEN 1 ELSE 'x' END;

-- why: [conditional, answer] greatest/least/coalesce of mixed numeric scales keep one scale per column, and a few mixed-type CASE forms resolve otherwise. Will change.
SELECT pg_typeof(coalesce(NULL, NULL));
SELECT coalesce('1', 2);
SELECT CASE WHEN true THEN '1' ELSE 2 END;
SELECT id, coalesce(n, f::numeric, 0) FROM corpus_t WHERE id IN (1, 4) ORDER BY id;
SELECT coalesce(j -> 'a', '0'::jsonb) FROM corpus_t ORDER BY id;

-- why: [conditional, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT id, greatest(n, f) FROM corpus_t ORDER BY id;
SELECT 1 = ANY(SELECT id FROM corpus_t);
SELECT (SELECT id FROM corpus_t WHERE false);

-- why: [conditional, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT (SELECT id FROM corpus_t);

-- why: [datetime, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT extract(hour from date '2024-03-10');

-- why: [datetime, answer] DataFusion's date and time types: no infinity, no BC or six-digit years, timestamps rounded to microseconds by truncation, timestamp(p) and OVERLAPS missing, current_time without a zone. Will change.
SELECT make_date(-44, 3, 15);
SELECT date '0001-01-01' - 1;
SELECT timestamp '2024-02-29 12:00:59.9999999';
SELECT timestamp '2024-03-10 12:00:00.1234567';
SELECT timestamp(0) '2024-03-10 12:00:00.5';
SELECT pg_typeof(current_time);

-- why: [datetime, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT to_timestamp('Infinity'::float8);
SELECT 'infinity'::timestamp;
SELECT '-infinity'::timestamp;
SELECT '-infinity'::date;
SELECT 'infinity'::date > date '9999-12-31';
SELECT 'infinity'::timestamptz;
SELECT isfinite(date 'infinity');
SELECT date '4713-11-24 BC';
SELECT date '4714-11-24 BC';
SELECT timestamp '4713-01-01 00:00:00 BC';
SELECT date '5874897-12-31';
SELECT timestamp '294276-12-31 23:59:59';
SELECT timestamp(2) '2024-03-10 12:00:00.555';
SELECT '2024-03-10 12:00:00'::timestamp(1);
SELECT (date '2024-01-01', date '2024-02-01') OVERLAPS (date '2024-01-15', date '2024-03-01');
SELECT (date '2024-01-01', date '2024-02-01') OVERLAPS (date '2024-02-01', date '2024-03-01');
SELECT (timestamp '2024-01-01', interval '1 day') OVERLAPS (timestamp '2024-01-01 12:00', interval '1 hour');
SELECT '24:00:00'::time;

-- why: [datetime, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT date '2024-03-10' + 2147483647;

-- why: [errors, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT length(1);
SELECT chr(0);
SELECT jsonb_set('[1]', '{a}', '1');

-- why: [errors, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT -(-2147483648);

-- why: [errors, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT FROM WHERE;
SELECT j::int FROM corpus_t WHERE id = 1;
SELECT (ARRAY[1, 2])['a'];
SELECT '{"a": 1}'::jsonb -> 'a' -> 'b' -> 'c' ->> 1 || 1 + 'x';
SELECT - 'abc';
SELECT id, count(*) FROM corpus_t;
SELECT (SELECT id FROM corpus_t);
SELECT E'\xff'::text;

-- why: [float, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT 1e39::float4;
SELECT '1e400'::float8;

-- why: [float, answer] floats print with the shortest round-trip digits whatever extra_float_digits says, float4 arithmetic is widened to double, and some float functions run on DataFusion's kernels. Will change.
SELECT 1e100::float8;
SELECT 1e15::float8;
SELECT pg_typeof(1::float4 + 1);
SELECT 1.5::float8::numeric;
SELECT 0.1::float8::numeric;
SELECT cbrt(27::float8);
SELECT f FROM corpus_t ORDER BY id;
SELECT f::text FROM corpus_t WHERE id = 5;

-- why: [float, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT 1e-100::float8;
SELECT 'NaN'::float8::numeric;
SELECT sind(30::float8);
SELECT cosd(60::float8);

-- why: [inet, answer] inet and cidr are tagged text: abbrev, inet arithmetic (+, -), inet_merge and ordering by address (text order here) are missing. Will change.
SELECT abbrev('10.1.0.0/16'::cidr);

-- why: [inet, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT text('10.1.2.3/8'::inet);
SELECT '10.1.2.3'::inet + 1;
SELECT '10.1.2.255'::inet + 1;
SELECT '10.1.2.3'::inet - '10.1.2.0'::inet;
SELECT inet_merge('10.1.2.3/24', '10.1.3.3/24');
SELECT inet_same_family('10.1.2.3', '::1');

-- why: [integer, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT -i2 FROM corpus_t WHERE id = 2;

-- why: [integer, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT '42' + 1;
SELECT 5 BETWEEN SYMMETRIC 10 AND 1;

-- why: [interval, answer] intervals are Arrow's month-day-nanosecond (about 2.5 million hours at most); some input forms (@, ISO 8601, 'ago', millennium), IntervalStyle other than postgres and avg of intervals are missing. Will change.
SELECT justify_interval(interval '1 month -1 hour');
SELECT interval '1 year 2 months 3 days 04:05:06';
SELECT interval '-1 day';
SELECT interval '1 year 2 months';
SELECT interval '1 day 02:03:04';
SELECT interval '-1 hour';

-- why: [interval, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT interval '1 second' * 1e12;
SELECT avg(ts - timestamp '2000-01-01') FROM corpus_t;
SET IntervalStyle = 'iso_8601';
SET IntervalStyle = 'sql_standard';
SET IntervalStyle = 'postgres_verbose';

-- why: [interval, sqlstate] both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.
SELECT interval '2147483647 days' + interval '1 day';

-- why: [json, answer] json keeps its text but ->, #> and functions write their results compactly, json_object and json_strip_nulls are missing, a whole row in json_agg is not set on its own line, and numbers built into JSON lose trailing zeros (1.50 is 1.5). Will change.
SELECT '{"a": [1, 2]}'::json -> 'a';
SELECT json_build_array(1, 'a', NULL, true, 1.50);
SELECT json_extract_path('{"a": {"b": 2}}', 'a', 'b');
SELECT to_json(1.50);
SELECT to_json(ARRAY[1, 2]);
SELECT to_json(interval '1 day');
SELECT row_to_json(t) FROM corpus_t t ORDER BY id;
SELECT row_to_json(e) FROM corpus_events e ORDER BY id;
SELECT json_agg(e ORDER BY id) FROM corpus_events e WHERE id < 3;
SELECT json_object_keys('{"b": 1, "a": 2}');

-- why: [json, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT json_object('{a,1,b,2}');
SELECT json_strip_nulls('{"a": null, "b": 1}');

-- why: [jsonb, answer] jsonb is text normalized by serde_json: numbers lose trailing zeros (1.50 is 1.5), = compares texts (1 and 1.0 differ), set-returning functions keep text's type OID in a select list, and jsonb_insert, jsonb_pretty and the jsonpath functions are missing. Will change.
SELECT '1.50'::jsonb;
SELECT '1e3'::jsonb;
SELECT '-0'::jsonb;
SELECT jsonb_build_object('a', 1.50, 'b', ARRAY[1, 2], 'c', true);
SELECT jsonb_build_array(1, 'two', NULL, false, 2.50);
SELECT jsonb_agg(n ORDER BY id) FROM corpus_t;
SELECT to_jsonb(1.50);
SELECT to_jsonb('Infinity'::float8);
SELECT to_jsonb(t) FROM corpus_t t WHERE id = 1;
SELECT to_jsonb(e) - 'at' FROM corpus_events e ORDER BY id;
SELECT '{"a": 1}'::jsonb = '{"a": 1.0}'::jsonb;
SELECT (j ->> 'a')::numeric * 2 FROM corpus_t WHERE jsonb_typeof(j) = 'object' ORDER BY id;
SELECT jsonb_build_object('id', id, 's', s, 'n', n) FROM corpus_t ORDER BY id;
SELECT to_jsonb(n), to_jsonb(f), to_jsonb(ts), to_jsonb(tz), to_jsonb(d) FROM corpus_t ORDER BY id;

-- why: [jsonb, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT jsonb_object('{a,1,b,2}');
SELECT jsonb_set_lax('{"a": 1}', '{a}', NULL);
SELECT jsonb_insert('{"a": [1, 2]}', '{a,1}', '"x"');
SELECT jsonb_insert('{"a": [1, 2]}', '{a,1}', '"x"', true);
SELECT jsonb_insert('{"a": 1}', '{b}', '2');
SELECT jsonb_pretty('{"a": 1, "b": [1, 2], "c": {}}');
SELECT jsonb_pretty('[]');
SELECT jsonb_path_query_array('{"a": [1, 2, 3]}', '$.a[*] ? (@ > 1)');
SELECT jsonb_path_exists('{"a": 1}', '$.a');

-- why: [like, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT 'abc' LIKE '%b%' ESCAPE 'ab';

-- why: [names, answer] EXISTS without FROM, a few value functions and `SELECT true` (named bool here) differ. Will change.
SELECT 'a'::varchar;
SELECT current_time FROM corpus_t WHERE false;
SELECT * FROM (VALUES (1, 'a')) v;
SELECT * FROM (VALUES (1, 'a')) v(num, letter);
SELECT generate_series(1, 2);

-- why: [numeric, answer] numeric is Arrow's Decimal128: one scale per column (PostgreSQL keeps each value's scale and picks a division's scale per value), 38 digits at most, no NaN or Infinity; sqrt, exp, ln, log, power run in double precision. Will change with a numeric type of weir's own.
SELECT avg(n) FROM corpus_t;
SELECT avg(n) FROM corpus_t WHERE id <> 5;

-- why: [numeric, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT 'NaN'::numeric;
SELECT 'nan'::numeric + 1;
SELECT 'NaN'::numeric = 'NaN'::numeric;
SELECT 'NaN'::numeric > 1e300;
SELECT 'Infinity'::numeric;
SELECT '-Infinity'::numeric + 1;
SELECT id, n, n::text, -n FROM corpus_t ORDER BY id;

-- why: [session, answer] DateStyle other than ISO, extra_float_digits other than 1, txid_current, inet_client_addr, and the type of some expressions (pg_typeof of avg, sum, sqrt) differ. Will change.
SELECT current_schema();
SELECT current_schemas(false);
SELECT current_schemas(true);
SELECT 0.1::float8 + 0.2::float8;
SELECT 1::float8 / 3;
SELECT pi()::float4;
SELECT date '2024-03-10';
SELECT timestamp '2024-03-10 12:00:00';
SELECT pg_typeof('a');
SELECT pg_typeof(1::int4 * 1.0::float4);
SELECT pg_typeof(sum(1::bigint));
SELECT pg_typeof(sum(1.5::float4));
SELECT pg_typeof(avg(1));
SELECT pg_typeof(v || 'x'), pg_typeof(upper(v)), pg_typeof(coalesce(v, s)) FROM corpus_t WHERE id = 1;
SELECT pg_typeof(current_database());

-- why: [session, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT txid_current() > 0;
SET extra_float_digits = 0;
SET DateStyle = 'German';
SET DateStyle = 'SQL, DMY';
SELECT '10/03/2024'::date;
SELECT inet_client_addr() IS NULL OR inet_client_addr() IS NOT NULL;

-- why: [strings, accepts] weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).
SELECT 'a' 'b';

-- why: [strings, answer] string functions are DataFusion's: upper/lower follow Unicode rather than the C locale, format width and some argument types differ. Will change.
SELECT upper('straße');

-- why: [strings, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT substring('foobar' similar 'f#"o*#"b%' escape '#');
SELECT trim(leading from '  hi  ') || '|';
SELECT trim(both from 'yxhixy', 'xy');
SELECT U&'d\0061t\+000061';
SELECT unistr('\0041');

-- why: [tables, answer] a few store-time checks (bigint and numeric range on INSERT, NaN) differ. Will change.
SELECT k, length(k), val FROM corpus_kv WHERE num >= 20 ORDER BY num;
SELECT id, amount, label, length(label) FROM corpus_events WHERE id >= 104 ORDER BY id;
SELECT grp, sum(amount), count(*) FROM corpus_events GROUP BY grp ORDER BY grp;
SELECT id, amount FROM corpus_events WHERE grp = 'z' ORDER BY id;

-- why: [tables, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
INSERT INTO corpus_kv VALUES ('cast', 'c', 23, 23, 23), ('castlong'::varchar(2), 'c2', 24, 24, 24);
INSERT INTO corpus_events VALUES (107, 'z', 'NaN', 1, 1, true, NULL, NULL, 'nan');

-- why: [timezone, answer] zone names go through chrono-tz (POSIX offsets such as '+02' and abbreviations such as PST are not read as PostgreSQL reads them), and timetz is not a type. Will change.
SELECT timestamptz '2024-03-10 12:00:00+00' AT TIME ZONE '+03';
SELECT timestamptz '2024-03-10 12:00:00+00'::timestamp;
SELECT to_json(timestamptz '2024-03-10 12:00:00+00');
SELECT timestamptz '2024-03-10 12:00:00+00';
SELECT current_setting('TimeZone');

-- why: [timezone, refuses] weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.
SELECT timestamptz '2024-03-10 12:00:00 PST';
SELECT timestamptz '2024-03-10 12:00:00+00' AT TIME ZONE interval '02:00';
SELECT timestamptz '2024-03-10 02:30:00';
SELECT timestamptz '2024-11-03 01:30:00';
SELECT date_trunc('day', timestamptz '2024-03-10 12:00:00+00', 'Asia/Kolkata');
SELECT tz::date, tz::timestamp FROM corpus_t ORDER BY id;
SET TimeZone = '+02';
SELECT timestamptz '2024-10-27 02:30:00';
