//! numeric's binary wire form, written from Arrow's Decimal128 exactly as
//! PostgreSQL sends it: base-10000 digit groups without leading or trailing
//! zero groups, the weight of the first group, the sign, and the column's
//! scale as the display scale (so `0.00` keeps its two places).

/// The binary form of `value * 10^-scale`; None for a negative scale.
pub fn numeric_binary(value: i128, scale: i8) -> Option<Vec<u8>> {
    let scale = usize::try_from(scale).ok()?;
    let digits = value.unsigned_abs().to_string();
    let digits = format!("{}{digits}", "0".repeat((scale + 1).saturating_sub(digits.len())));
    let (int, frac) = digits.split_at(digits.len() - scale);
    // Groups of four digits either side of the point, padded with zeros outwards.
    let int = format!("{}{int}", "0".repeat((4 - int.len() % 4) % 4));
    let frac = format!("{frac}{}", "0".repeat((4 - frac.len() % 4) % 4));
    let group = |s: &str| s.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap().parse::<i16>().unwrap()).collect::<Vec<_>>();
    let mut groups = group(&int);
    let mut weight = groups.len() as i16 - 1;
    groups.extend(group(&frac));
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= leading as i16;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if value < 0 && !groups.is_empty() { 0x4000 } else { 0 };
    let mut out = Vec::with_capacity(8 + 2 * groups.len());
    for word in [groups.len() as u16, weight as u16, sign, scale as u16] {
        out.extend(word.to_be_bytes());
    }
    for g in groups {
        out.extend(g.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::numeric_binary;

    fn words(v: i128, s: i8) -> Vec<i16> {
        numeric_binary(v, s).unwrap().chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect()
    }

    #[test]
    fn groups_weight_sign_and_scale() {
        // (ndigits, weight, sign, dscale, digits...), as PostgreSQL 15's numeric_send writes them
        assert_eq!(words(150, 2), vec![2, 0, 0, 2, 1, 5000]);
        assert_eq!(words(-2005, 2), vec![2, 0, 0x4000, 2, 20, 500]);
        assert_eq!(words(1234567890, 2), vec![3, 1, 0, 2, 1234, 5678, 9000]);
        assert_eq!(words(0, 2), vec![0, 0, 0, 2]);
        assert_eq!(words(1, 4), vec![1, -1, 0, 4, 1]);
        assert_eq!(words(100000000, 0), vec![1, 2, 0, 0, 1]);
        assert_eq!(numeric_binary(i128::MAX, 38).unwrap().len(), 8 + 2 * 11, "1 group before the point, 10 after");
        assert_eq!(numeric_binary(5, -1), None);
    }
}
