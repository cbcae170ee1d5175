-- Streaming corpus: each statement becomes a materialized view in weir; rows compared sorted.
-- Every expression has an explicit alias. One setup table per statement, no ORDER BY/aggregates.

-- category: numeric
SELECT id AS id, n + 1 AS n_plus, n * 2 AS n_twice, n / 3 AS n_third, round(n, 1) AS n_round, -n AS n_neg FROM corpus_t;
SELECT id AS id, amount AS amount, amount * qty AS total, amount / 4 AS quarter, trunc(amount) AS whole, ceil(amount) AS up, floor(amount) AS down FROM corpus_events;
SELECT id AS id, n::bigint AS n_int, n::text AS n_text, abs(n) AS n_abs, sign(n) AS n_sign, scale(n) AS n_scale FROM corpus_t;
SELECT id AS id, f * 2 AS f2, f + 0.5 AS f_half, f::text AS f_text, f = 'NaN' AS f_nan FROM corpus_t;
SELECT id AS id, i8 / 2 AS i8_half, i2 % 3 AS i2_mod, id * 10 AS id10, id / 2 AS id_div, id % 2 AS id_mod FROM corpus_t;
SELECT id AS id, qty / 2 AS qty_div, qty * 1.5 AS qty_num, score * qty AS score_qty, qty::float8 / 3 AS qty_f FROM corpus_events;
SELECT k AS k, num * 2 AS num2, big + small AS bigsmall, num::numeric / 7 AS ratio FROM corpus_kv;

-- category: datetime
SELECT id AS id, to_char(ts, 'YYYY-MM-DD HH24:MI:SS') AS ts_text, to_char(d, 'FMDay, FMDD Mon YYYY') AS d_text, to_char(ts, 'Q IW J') AS ts_codes FROM corpus_t;
SELECT id AS id, date_trunc('month', ts) AS ts_month, date_trunc('hour', tz) AS tz_hour, date_trunc('week', d) AS d_week, date_trunc('year', d) AS d_year FROM corpus_t;
SELECT id AS id, extract(year from ts) AS y, extract(dow from d) AS dow, extract(epoch from tz) AS ep, extract(doy from d) AS doy, extract(quarter from ts) AS q FROM corpus_t;
SELECT id AS id, ts + interval '1 day 2 hours' AS ts_later, d + 7 AS d_week_later, d - date '2000-01-01' AS days_since, tz - interval '30 minutes' AS tz_earlier FROM corpus_t;
SELECT id AS id, ts - timestamp '2000-01-01' AS since_2000, age(ts, timestamp '1999-01-01') AS age_1999 FROM corpus_t;
SELECT id AS id, at AS at, at AT TIME ZONE 'America/New_York' AS at_ny, date_trunc('day', at) AS at_day, to_char(at, 'YYYY-MM-DD HH24:MI TZ') AS at_text FROM corpus_events;
SELECT id AS id, day + 1 AS next_day, extract(isodow from day) AS isodow, date_part('week', day) AS week, day::timestamp AS day_ts FROM corpus_events;
SELECT id AS id, tz::date AS tz_date, tz::timestamp AS tz_ts, ts::date AS ts_date, ts AT TIME ZONE 'UTC' AS ts_utc FROM corpus_t;

-- category: strings
SELECT id AS id, upper(s) AS up, lower(s) AS low, length(s) AS len, s || '!' AS bang, initcap(s) AS cap FROM corpus_t;
SELECT id AS id, substring(s from 2 for 3) AS sub, left(s, 2) AS l2, right(s, -1) AS r1, reverse(s) AS rev, trim(s) AS trimmed FROM corpus_t;
SELECT id AS id, replace(s, 'a', '@') AS repl, split_part(s, ' ', 1) AS first_word, lpad(id::text, 4, '0') AS padded, strpos(s, 'a') AS pos_a FROM corpus_t;
SELECT id AS id, concat(s, '-', v) AS cat, concat_ws('|', s, v, id) AS cat_ws, format('%s=%L', id, s) AS fmt, coalesce(v, '(none)') AS v_or FROM corpus_t;
SELECT id AS id, label AS label, upper(label) AS up, length(label) AS len, label LIKE '%th' AS ends_th, grp || ':' || coalesce(label, '?') AS tag FROM corpus_events;
SELECT id AS id, s ~ '^[A-Z]' AS starts_upper, regexp_replace(s, '[aeiou]', '*', 'g') AS masked, s ILIKE '%a%' AS has_a, md5(coalesce(s, '')) AS hash FROM corpus_t;
SELECT k AS k, val AS val, length(val) AS len, trim(val) AS trimmed, val = '' AS empty_val, k || '=' || val AS pair FROM corpus_kv;

-- category: jsonb
SELECT id AS id, j -> 'a' AS ja, j ->> 'b' AS jb, j #>> '{nested,k}' AS jk, j -> 'tags' -> 0 AS first_tag, jsonb_typeof(j) AS jt FROM corpus_t;
SELECT id AS id, j ? 'tags' AS has_tags, j @> '{"a": 2}' AS a_is_2, j || '{"x": 1}' AS j_plus, jsonb_array_length(j -> 'tags') AS ntags FROM corpus_t;
SELECT id AS id, jsonb_build_object('id', id, 's', s, 'n', n) AS obj, to_jsonb(ts) AS ts_json, jsonb_build_array(id, b) AS arr FROM corpus_t;
SELECT id AS id, jsonb_set(j, '{a}', '0') AS j_set, j #> '{tags}' AS tags, (j ->> 'a')::numeric AS a_num FROM corpus_t WHERE jsonb_typeof(j) = 'object';
SELECT id AS id, j - 'a' AS j_minus, j - 'tags' AS j_no_tags FROM corpus_t WHERE jsonb_typeof(j) = 'object';

-- category: conditional
SELECT id AS id, coalesce(n, 0) AS n0, nullif(s, '') AS s_null, greatest(n, 0) AS n_pos, least(i2, 0) AS i2_neg, coalesce(b, false) AS b_def FROM corpus_t;
SELECT id AS id, CASE WHEN n > 0 THEN 'pos' WHEN n < 0 THEN 'neg' WHEN n = 0 THEN 'zero' ELSE 'unknown' END AS n_sign, CASE b WHEN true THEN 1 WHEN false THEN 0 END AS b_int FROM corpus_t;
SELECT id AS id, CASE WHEN amount IS NULL THEN -1 ELSE amount END AS amt, CASE grp WHEN 'a' THEN 'alpha' ELSE 'other' END AS grp_name, ok IS TRUE AS ok_true, ok IS UNKNOWN AS ok_null FROM corpus_events;
SELECT id AS id, b::text AS b_text, b IS NOT FALSE AS b_nf, NOT coalesce(b, true) AS b_not FROM corpus_t;

-- category: casts
SELECT id AS id, id::text AS id_text, n::float8 AS n_float, ts::text AS ts_text, d::text AS d_text, v::varchar(3) AS v3, i2::int AS i2_int FROM corpus_t;
SELECT id AS id, amount::int AS amount_int, qty::numeric(12,2) AS qty_num, score::int AS score_int, ok::text AS ok_text FROM corpus_events WHERE score <> 'NaN';
SELECT k AS k, val::numeric AS val_num, num::text AS num_text, big::float8 AS big_f FROM corpus_kv WHERE k <> 'bad' AND val <> '';

-- category: interval
SELECT id AS id, interval '1 hour' * id AS hours, ts - interval '1 month' AS month_before, make_interval(days => id) AS days_iv, justify_hours(interval '1 hour' * id * 10) AS justified FROM corpus_t;
SELECT id AS id, at - timestamptz '2024-01-01 00:00:00+00' AS since_new_year, extract(epoch from at - timestamptz '2024-01-01 00:00:00+00') AS secs FROM corpus_events;

-- category: filters
SELECT id AS id, s AS s, n AS n FROM corpus_t WHERE n > 0;
SELECT id AS id, grp AS grp, amount AS amount FROM corpus_events WHERE ok AND amount IS NOT NULL;
SELECT id AS id, upper(s) AS s_up FROM corpus_t WHERE s LIKE '%a%' OR b IS NULL;
SELECT id AS id, to_char(at, 'HH24:MI') AS hhmi FROM corpus_events WHERE at >= timestamptz '2024-01-02 00:00:00+00';

-- category: aggregates
SELECT grp AS grp, string_agg(label, ',' ORDER BY id) AS labels, array_agg(qty ORDER BY id DESC) AS qtys, count(*) FILTER (WHERE qty > 1) AS big, sum(DISTINCT qty) AS dq, bool_and(qty > 0) AS all_pos, bool_or(label IS NULL) AS any_null FROM corpus_events GROUP BY grp;
SELECT grp AS grp, jsonb_agg(label ORDER BY id) AS labels, json_agg(qty ORDER BY id) AS qtys, jsonb_object_agg(id, qty ORDER BY id) AS by_id, jsonb_agg(DISTINCT ok) AS oks FROM corpus_events GROUP BY grp;
SELECT b AS b, array_agg(DISTINCT s) AS ss, string_agg(DISTINCT v, '/') AS v_text, max(n) FILTER (WHERE id > 1) AS top_n, count(DISTINCT s) AS ns, count(*) FILTER (WHERE n > 0) AS positive FROM corpus_t GROUP BY b;
SELECT ok AS ok, array_agg(amount ORDER BY amount DESC NULLS LAST) AS amounts, string_agg(grp || ':' || id, ' ' ORDER BY id) AS tags, sum(amount) FILTER (WHERE qty > 1) AS big_amount, avg(score) FILTER (WHERE score > 0) AS pos_score FROM corpus_events GROUP BY ok;
