//! How numbers, percentages and units are written for people, in one place so every report
//! and every reason sentence agrees. Pure string formatting; no I/O.

/// A value with at most 6 significant digits and no trailing zeros: `432`, `212.4`, `0.0049`.
pub fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    // Round to 6 significant digits, then print the shortest form of that rounded value;
    // scientific notation for the very small and the very large (a subnormal would otherwise
    // print as 324 digits).
    let rounded: f64 = format!("{v:.5e}").parse().unwrap_or(v);
    if rounded.abs() < 1e-12 || rounded.abs() >= 1e15 { format!("{rounded:e}") } else { format!("{rounded}") }
}

/// A number with an explicit sign: `+0.07`, `-600`, `+0`.
pub fn signed(v: f64) -> String {
    if v < 0.0 { format!("-{}", num(-v)) } else { format!("+{}", num(v)) }
}

/// A fraction as a signed percentage: `0.125` -> `+12.5%`, `-0.0472` -> `-4.72%`.
pub fn pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    let sign = if fraction < 0.0 { "-" } else { "+" };
    if p.abs() >= 1e15 || !p.is_finite() {
        // Shift the exponent rather than multiply: 4.5e307 as a fraction is +4.5e309%.
        let text = format!("{:.2e}", fraction.abs());
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0) + 2;
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{sign}{mantissa}e{exponent}%");
    }
    let magnitude = if p.abs() >= 1.0 || p == 0.0 {
        let r = (p.abs() * 100.0).round() / 100.0;
        num(r)
    } else {
        let r: f64 = format!("{:.2e}", p.abs()).parse().unwrap_or(p.abs());
        num(r)
    };
    format!("{sign}{magnitude}%")
}

/// A value in its unit: `432 ms`, `0.22%`, `10600 req/min`, `0.0049 USD`, or the bare number.
pub fn with_unit(v: f64, unit: Option<&str>) -> String {
    match unit {
        None | Some("") => num(v),
        Some("%") => format!("{}%", num(v)),
        Some(u) => format!("{} {u}", num(v)),
    }
}

/// A signed difference in the metric's unit. A difference of percentages is in percentage
/// points (`pp`), so `+0.2 pp` cannot be mistaken for a relative `+0.2%`.
pub fn diff_with_unit(v: f64, unit: Option<&str>) -> String {
    match unit {
        None | Some("") => signed(v),
        Some("%") => format!("{} pp", signed(v)),
        Some(u) => format!("{} {u}", signed(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact_enough() {
        assert_eq!(num(432.0), "432");
        assert_eq!(num(212.4), "212.4");
        assert_eq!(num(0.0049), "0.0049");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(10600.0), "10600");
        assert_eq!(num(1234567.891), "1234570");
        assert_eq!(num(-3.5), "-3.5");
        assert_eq!(num(1e-9), "0.000000001");
        assert_eq!(num(5e-324), "5e-324");
        assert_eq!(num(1.7976931348623157e308), "1.79769e308");
    }

    #[test]
    fn percentages_and_units() {
        assert_eq!(pct(0.125), "+12.5%");
        assert_eq!(pct(0.1), "+10%");
        assert_eq!(pct(-0.0472), "-4.72%");
        assert_eq!(pct(0.0), "+0%");
        assert_eq!(pct(0.0000123), "+0.00123%");
        assert_eq!(pct(4.49e307), "+4.49e309%");
        assert_eq!(pct(-1e20), "-1e22%");
        assert_eq!(with_unit(432.0, Some("ms")), "432 ms");
        assert_eq!(with_unit(0.22, Some("%")), "0.22%");
        assert_eq!(diff_with_unit(0.07, Some("%")), "+0.07 pp");
        assert_eq!(diff_with_unit(-600.0, Some("req/min")), "-600 req/min");
        assert_eq!(diff_with_unit(0.5, None), "+0.5");
    }
}
