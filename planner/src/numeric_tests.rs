//! Tests of PostgreSQL's numeric functions (`pgfunctions/numeric_fns`) as
//! weir plans them (`pgsyntax`, then `pgplan`'s rules): a test-only module at
//! the crate's root, so that `pgfunctions` need not depend on `pgplan`.

use datafusion::arrow::datatypes::DataType;

/// Runs `sql` as weir does (its SQL rewrites, PostgreSQL's plan rules,
/// `1.5` a numeric): the first value as Arrow writes it, and its type.
fn run(sql: &str) -> std::result::Result<(String, DataType), String> {
    let ctx = crate::pgfunctions::test_context(None, true);
    let mut stmt = crate::parse_statements(sql).map_err(|e| e.to_string())?.remove(0);
    crate::pgsyntax::rewrite(&mut stmt);
    let batches = crate::pgfunctions::ready(async {
        let plan = ctx.state().statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(stmt))).await?;
        ctx.execute_logical_plan(crate::pgplan::apply(plan)?).await?.collect().await
    })
    .map_err(|e| crate::SqlError::from(e).to_string())?;
    crate::pgfunctions::first_value(&batches)
}

/// Each statement's first value as PostgreSQL writes it and its type's
/// name, or its error's SQLSTATE.
fn check(cases: &[(&str, &str)]) {
    let mut wrong = vec![];
    for (sql, want) in cases {
        let got = match run(sql) {
            // Arrow writes a whole double with `.0`, PostgreSQL without.
            Ok((value, t)) => {
                format!("{}|{}", if t == DataType::Float64 { value.trim_end_matches(".0") } else { &value }, crate::error::pg_type_name(&t.to_string()))
            }
            Err(e) => e.rsplit_once('(').map_or(e.clone(), |(_, code)| code.split(')').next().unwrap_or("").to_string()),
        };
        if got != *want {
            wrong.push(format!("{sql}: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// Every expectation below is PostgreSQL 15's answer (value and pg_typeof, or SQLSTATE).

#[test]
fn numeric_division_takes_postgres_scale_for_constants() {
    check(&[
        ("SELECT 1::numeric / 3", "0.33333333333333333333|numeric"),
        ("SELECT 10::numeric / 4", "2.5000000000000000|numeric"),
        ("SELECT 1.50::numeric(12,2) / 3", "0.50000000000000000000|numeric"),
        ("SELECT 100::numeric / 7", "14.2857142857142857|numeric"),
        ("SELECT 1::numeric / 7000000", "0.000000142857142857142857|numeric"),
        ("SELECT 12345678901234567890::numeric / 3", "4115226300411522630|numeric"),
        ("SELECT 2::numeric / 3", "0.66666666666666666667|numeric"),
        ("SELECT 1.000000 / 3", "0.33333333333333333333|numeric"),
        ("SELECT 1 / 3::numeric", "0.33333333333333333333|numeric"),
        ("SELECT -7.5 / 2", "-3.7500000000000000|numeric"),
        ("SELECT 1::numeric / 3 / 7", "0.04761904761904761905|numeric"),
        ("SELECT 1::numeric / 0", "22012"),
    ]);
}

#[test]
fn numeric_division_of_columns() {
    check(&[
        ("SELECT column1 / 3 FROM (VALUES (10.50::numeric(12,2))) v", "3.5000000000000000|numeric"),
        ("SELECT column1 / 4 FROM (VALUES (10::numeric(12,0))) v", "2.5000000000000000|numeric"),
        ("SELECT column1 / 0 FROM (VALUES (1::numeric(12,0))) v", "22012"),
    ]);
}

#[test]
fn float_division_errors() {
    check(&[
        ("SELECT 1::float8 / 0::float8", "22012"),
        ("SELECT 1::float8 / 0", "22012"),
        ("SELECT 'NaN'::float8 / 0", "NaN|double precision"),
        ("SELECT 1e308::float8 / 1e-308::float8", "22003"),
        ("SELECT 1::float8 / 4", "0.25|double precision"),
    ]);
}

#[test]
fn rounding_functions() {
    check(&[
        ("SELECT ceil(1.1)", "2|numeric"),
        ("SELECT ceil(-1.1)", "-1|numeric"),
        ("SELECT ceiling(2.000)", "2|numeric"),
        ("SELECT floor(-1.1)", "-2|numeric"),
        ("SELECT floor(1.9)", "1|numeric"),
        ("SELECT trunc(3.789, 1)", "3.7|numeric"),
        ("SELECT trunc(-3.789)", "-3|numeric"),
        ("SELECT trunc(1234.5678, -2)", "1200|numeric"),
        ("SELECT round(2.5)", "3|numeric"),
        ("SELECT round(-2.5)", "-3|numeric"),
        ("SELECT round(3.14159, 2)", "3.14|numeric"),
        ("SELECT round(1234.5678, -2)", "1200|numeric"),
        ("SELECT round(123.456, 5)", "123.45600|numeric"),
        ("SELECT round(-5.5, -1)", "-10|numeric"),
        ("SELECT round(5, 1)", "5.0|numeric"),
        ("SELECT ceil(1)", "1|double precision"),
        ("SELECT round(2.5::float8)", "2|double precision"),
        ("SELECT round(-0.5::float8)", "-0|double precision"),
        ("SELECT round(2.5, 2.7)", "42883"),
    ]);
}

#[test]
fn sign_and_scale() {
    check(&[
        ("SELECT sign(-1.50)", "-1|numeric"),
        ("SELECT sign(0.00)", "0|numeric"),
        ("SELECT sign(-3)", "-1|double precision"),
        ("SELECT scale(1.500)", "3|integer"),
        ("SELECT scale(10::numeric)", "0|integer"),
        ("SELECT min_scale(1.5000)", "1|integer"),
        ("SELECT min_scale(10.00)", "0|integer"),
        ("SELECT trim_scale(1.5000)", "1.5|numeric"),
        ("SELECT trim_scale(-1.2300)", "-1.23|numeric"),
        ("SELECT scale(1.5::float8)", "42883"),
        ("SELECT 1e10::numeric::int", "22003"),
    ]);
}

#[test]
fn mod_div_gcd_lcm() {
    check(&[
        ("SELECT mod(10.5, 3)", "1.5|numeric"),
        ("SELECT mod(-10, 3::numeric)", "-1|numeric"),
        ("SELECT mod(5.00, 0.3)", "0.20|numeric"),
        ("SELECT mod(1::numeric, 0)", "22012"),
        ("SELECT mod(-7, 3)", "-1|integer"),
        ("SELECT mod(5::smallint, 2::smallint)", "1|smallint"),
        ("SELECT mod(-2147483648, -1)", "0|integer"),
        ("SELECT mod(5, 0)", "22012"),
        ("SELECT div(7.5, 2)", "3|numeric"),
        ("SELECT div(-7.5, 2)", "-3|numeric"),
        ("SELECT div(10.0, 0.3)", "33|numeric"),
        ("SELECT div(1::numeric, 0)", "22012"),
        ("SELECT gcd(12, 18)", "6|integer"),
        ("SELECT gcd(-12, 18)", "6|integer"),
        ("SELECT gcd(12::bigint, 8::bigint)", "4|bigint"),
        ("SELECT lcm(4, 6)", "12|integer"),
        ("SELECT lcm(-4, 6)", "12|integer"),
        ("SELECT gcd(12.5, 7.5)", "2.5|numeric"),
        ("SELECT lcm(1.5, 2.25)", "4.50|numeric"),
        ("SELECT gcd(-2147483648, 0)", "22003"),
        ("SELECT lcm(2147483647, 2147483646)", "22003"),
        ("SELECT factorial(5)", "120|numeric"),
        ("SELECT factorial(33)", "8683317618811886495518194401280000000|numeric"),
        ("SELECT factorial(-1)", "22003"),
        ("SELECT to_hex(-1)", "ffffffff|text"),
        ("SELECT to_hex(-1::bigint)", "ffffffffffffffff|text"),
        ("SELECT to_hex(255)", "ff|text"),
    ]);
}

#[test]
fn width_bucket_forms() {
    check(&[
        ("SELECT width_bucket(5.35, 0.024, 10.06, 5)", "3|integer"),
        ("SELECT width_bucket(5.35::float8, 0.024, 10.06, 5)", "3|integer"),
        ("SELECT width_bucket(2, 10, 0, 5)", "5|integer"),
        ("SELECT width_bucket(1.5, 0, 2, 2147483647)", "1610612736|integer"),
        ("SELECT width_bucket(2.9999::numeric, 3, 0, 3)", "1|integer"),
        ("SELECT width_bucket(5, 0, 10, 0)", "2201G"),
        ("SELECT width_bucket(5.0, 0, 0, 5)", "2201G"),
        ("SELECT width_bucket(3.0, 0, 2, 2147483647)", "22003"),
    ]);
}

#[test]
fn sqrt_exp_ln_log_power_of_numerics() {
    check(&[
        ("SELECT sqrt(2::numeric)", "1.414213562373095|numeric"),
        ("SELECT sqrt(16::numeric)", "4.000000000000000|numeric"),
        ("SELECT sqrt(1e-10::numeric)", "0.000010000000000000000|numeric"),
        ("SELECT sqrt(123456789012345678901234567890::numeric)", "351364182882014.4|numeric"),
        ("SELECT sqrt(2.00000000000000000000)", "1.41421356237309504880|numeric"),
        ("SELECT exp(1::numeric)", "2.7182818284590452|numeric"),
        ("SELECT exp(2.5)", "12.182493960703473|numeric"),
        ("SELECT exp(-1::numeric)", "0.3678794411714423|numeric"),
        ("SELECT exp(50::numeric)", "5184705528587072464087|numeric"),
        ("SELECT exp(-10::numeric)", "0.00004539992976248485|numeric"),
        ("SELECT ln(10::numeric)", "2.3025850929940457|numeric"),
        ("SELECT ln(1000000::numeric)", "13.815510557964274|numeric"),
        ("SELECT ln(0.5)", "-0.6931471805599453|numeric"),
        ("SELECT ln(1.05)", "0.048790164169432003|numeric"),
        ("SELECT ln(1.0001)", "0.00009999500033330834|numeric"),
        ("SELECT ln(0.9)", "-0.10536051565782630|numeric"),
        ("SELECT ln(123456789012345678901234567890::numeric)", "66.985688719142977|numeric"),
        ("SELECT log(100::numeric)", "2.0000000000000000|numeric"),
        ("SELECT log(2::numeric)", "0.3010299956639812|numeric"),
        ("SELECT log(2::numeric, 8::numeric)", "3.0000000000000000|numeric"),
        ("SELECT log(3::numeric, 10::numeric)", "2.0959032742893846|numeric"),
        ("SELECT log(2, 8)", "3.0000000000000000|numeric"),
        ("SELECT power(2::numeric, 10)", "1024.0000000000000000|numeric"),
        ("SELECT power(2.5, 2)", "6.2500000000000000|numeric"),
        ("SELECT 2.0 ^ 0.5", "1.4142135623730950|numeric"),
        ("SELECT power(2::numeric, -3)", "0.1250000000000000|numeric"),
        ("SELECT power(1.12345678901234567890, 2)", "1.26215515677793019455|numeric"),
        ("SELECT power(1000000::numeric, 1.5)", "1000000000.0000000|numeric"),
        ("SELECT power(0::numeric, 2.5)", "0.0000000000000000|numeric"),
        ("SELECT power(0.5, 100)", "0.0000000000000000|numeric"),
        ("SELECT power(2, 10)", "1024|double precision"),
    ]);
}

#[test]
fn math_errors() {
    check(&[
        ("SELECT ln(0)", "2201E"),
        ("SELECT ln(-1)", "2201E"),
        ("SELECT log(0)", "2201E"),
        ("SELECT ln(0::numeric)", "2201E"),
        ("SELECT log(-1::numeric)", "2201E"),
        ("SELECT log(1::numeric, 2::numeric)", "22012"),
        ("SELECT power(-8::numeric, 0.5)", "2201F"),
        ("SELECT power(0::numeric, -1)", "2201F"),
        ("SELECT power(-8::float8, 0.5)", "2201F"),
        ("SELECT sqrt(-1::numeric)", "2201F"),
        ("SELECT sqrt(-1::float8)", "2201F"),
        ("SELECT exp(-1000::float8)", "22003"),
        ("SELECT exp(1000::float8)", "22003"),
        ("SELECT power(10::float8, 400)", "22003"),
    ]);
}

/// Where weir gives another answer than PostgreSQL 15 (the third
/// column), and why: one scale per column, and digits weir's numeric
/// does not hold or compute.
#[test]
fn known_differences() {
    let cases = [
        // A quotient below 1 of columns: PostgreSQL gives it 20 decimals, the column has 16.
        ("SELECT column1 / 4 FROM (VALUES (1::numeric(12,0))) v", "0.2500000000000000|numeric", "0.25000000000000000000"),
        // A quotient of 10000 or more of columns: PostgreSQL gives it fewer decimals.
        ("SELECT column1 / 3 FROM (VALUES (9999999999.99::numeric(12,2))) v", "3333333333.3300000000000000|numeric", "3333333333.33000000"),
        // 38 significant digits, of which weir is sure of 34.
        ("SELECT exp(87::numeric)", "22003", "60760302250568721495223289381302760753"),
        // More than 38 digits.
        ("SELECT power(2::numeric, 100)", "22003", "1267650600228229401496703205376.0000000000000000"),
        ("SELECT exp(-100::numeric)", "22003", "0.00000000000000000000000000000000000000000003720075976020836"),
        ("SELECT 'NaN'::numeric", "0A000", "NaN"),
        (
            "SELECT power(-849487409286184322.8::numeric, 4)",
            "22003",
            "520748209471614160093903128186129195295038746015390733002173362383881728.0256000000000000",
        ),
        // PostgreSQL has no round(double precision, integer); weir rounds the double as a numeric.
        ("SELECT round(1.23456::float8, 2)", "1.23|numeric", "42883"),
        ("SELECT trunc(-1.23456::float8, 3)", "-1.234|numeric", "42883"),
    ];
    check(&cases.map(|(sql, weir, _)| (sql, weir)));
}
