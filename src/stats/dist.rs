//! The distributions the decision needs: the standard normal and Student's t (CDF and quantile).
//!
//! Written from the textbook formulas, no dependency:
//! - `ln Γ(x)`: the recurrence `ln Γ(x) = ln Γ(x + k) − ln(x (x+1) … (x+k−1))` up to x ≥ 10, then
//!   Stirling's series with terms to 1/(1188 x⁹) (Abramowitz & Stegun 6.1.40); absolute error
//!   below 1e-14 there.
//! - Φ(x) = ½ erfc(−x/√2), erfc from the regularized incomplete gamma Q(½, x²) (A&S 7.1.1,
//!   6.5.17): its power series below x² = 1.5, its continued fraction (DLMF 8.9.2, evaluated with
//!   the modified Lentz method) above, so the tails keep their relative accuracy.
//! - Student's t: P(T ≤ t) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0 (A&S 26.7.1), with the
//!   regularized incomplete beta from its continued fraction (DLMF 8.17.22, modified Lentz),
//!   using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where x > (a+1)/(a+b+2).
//! - Quantiles invert the CDFs: bracket, then Newton steps kept inside the bracket (bisection
//!   when a step would leave it), to a relative 1e-12.
//!
//! Every function returns a finite number for finite arguments in its domain; callers clamp
//! probabilities into (0, 1) first.

use std::f64::consts::PI;

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    let mut shift = 0.0;
    let mut x = x;
    while x < 10.0 {
        shift += x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Stirling: (x − ½) ln x − x + ½ ln 2π + 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷) + 1/(1188x⁹).
    let series =
        inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 / 1188.0))));
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + series - shift
}

/// Upper regularized incomplete gamma Q(a, x) for a > 0, x ≥ 0.
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // P(a, x) = x^a e^−x / Γ(a+1) · Σ x^n / ((a+1)…(a+n)).
        let mut term = 1.0 / a;
        let mut sum = term;
        for n in 1..500 {
            term *= x / (a + n as f64);
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        // Q(a, x) = x^a e^−x / Γ(a) · 1/(x+1−a− 1(1−a)/(x+3−a− 2(2−a)/(x+5−a− …))).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..500 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// The standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    let tail = 0.5 * gamma_q(0.5, x * x / 2.0);
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// The upper tail 1 − Φ(x), accurate far into the tail.
pub fn normal_sf(x: f64) -> f64 {
    normal_cdf(-x)
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// The standard normal quantile Φ⁻¹(p), p in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    if p == 0.5 {
        return 0.0;
    }
    // Φ⁻¹(p) = −Φ⁻¹(1 − p): solve in the upper half, where the tail is computed directly.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    // A starting point from the tail asymptote, then Newton on the upper tail.
    let t = (-2.0 * q.ln()).sqrt();
    let mut x = (t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t))
        .max(0.0);
    invert(|x| normal_sf(x) - q, |x| -normal_pdf(x), &mut x, 0.0, 40.0);
    sign * x
}

/// Regularized incomplete beta I_x(a, b).
fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - beta_reg(b, a, 1.0 - x);
    }
    let log_prefix = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // Continued fraction 1/(1+ d1/(1+ d2/(1+ …))) with
    // d_{2m+1} = −(a+m)(a+b+m) x / ((a+2m)(a+2m+1)), d_{2m} = m(b−m) x / ((a+2m−1)(a+2m)).
    let tiny = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..1000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [even, -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))] {
            d = 1.0 + coefficient * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        let delta = d * c;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    log_prefix.exp() * h / a
}

/// Student's t upper tail P(T > t) with `df` > 0 degrees of freedom (df = ∞: the normal).
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return 0.5;
    }
    if !df.is_finite() || df > 1e7 {
        return normal_sf(t);
    }
    let tail = 0.5 * beta_reg(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { tail } else { 1.0 - tail }
}

/// Fisher's F upper tail P(F > x) with (d1, d2) degrees of freedom, both > 0.
pub fn f_sf(x: f64, d1: f64, d2: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if !x.is_finite() {
        return 0.0;
    }
    beta_reg(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * x))
}

fn t_pdf(t: f64, df: f64) -> f64 {
    let log = ln_gamma((df + 1.0) / 2.0)
        - ln_gamma(df / 2.0)
        - 0.5 * (df * PI).ln()
        - (df + 1.0) / 2.0 * (1.0 + t * t / df).ln();
    log.exp()
}

/// The upper-tail quantile of Student's t: the t with P(T > t) = `alpha`, for alpha in (0, ½].
/// df = ∞ gives the normal quantile.
pub fn t_upper(alpha: f64, df: f64) -> f64 {
    let alpha = alpha.clamp(1e-300, 0.5);
    let z = normal_quantile(1.0 - alpha).max(0.0);
    if !df.is_finite() || df > 1e7 {
        return z;
    }
    // Start from the normal quantile with the first Cornish–Fisher correction (A&S 26.7.5).
    let mut x = z + (z * z * z + z) / (4.0 * df);
    let hi = if df < 1.0 { 1e300 } else { 1e12 };
    invert(|t| t_sf(t, df) - alpha, |t| -t_pdf(t, df), &mut x, 0.0, hi);
    x
}

/// Solves f(x) = 0 for an f that falls from positive to negative on [lo, hi], from the guess `x`.
fn invert(f: impl Fn(f64) -> f64, df: impl Fn(f64) -> f64, x: &mut f64, mut lo: f64, mut hi: f64) {
    if !(*x > lo && *x < hi) {
        *x = (lo + hi.min(lo + 10.0)) / 2.0;
    }
    for _ in 0..200 {
        let fx = f(*x);
        if fx == 0.0 {
            return;
        }
        if fx > 0.0 {
            lo = *x;
        } else {
            hi = *x;
        }
        let slope = df(*x);
        let mut next = *x - fx / slope;
        if !(next > lo && next < hi && next.is_finite()) {
            next = if hi > 1e6 * (lo.abs() + 1.0) {
                (lo.max(1e-300) * hi).sqrt().max(lo * 2.0 + 1.0)
            } else {
                (lo + hi) / 2.0
            };
        }
        if (next - *x).abs() <= 1e-12 * next.abs().max(1e-300) {
            *x = next;
            return;
        }
        *x = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-13);
        assert!(close(ln_gamma(0.5), PI.sqrt().ln(), 1e-13));
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-13));
        assert!(close(ln_gamma(100.5), 361.435_540_467_777_57, 1e-13));
    }

    #[test]
    fn normal_matches_tables() {
        // Φ⁻¹ values from any table (scipy.stats.norm.ppf).
        for (p, z) in [
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_841),
            (0.8, 0.841_621_233_572_914_3),
            (0.999_999, 4.753_424_308_822_899),
        ] {
            assert!(close(normal_quantile(p), z, 1e-10), "{p}: {}", normal_quantile(p));
            assert!(close(normal_quantile(1.0 - p), -z, 1e-9));
            assert!(close(normal_cdf(z), p, 1e-12));
        }
        assert!(close(normal_sf(10.0), 7.619_853_024_160_527e-24, 1e-9));
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn student_t_matches_tables() {
        // scipy.stats.t.ppf(1 - alpha, df).
        for (alpha, df, t) in [
            (0.01, 1.0, 31.820_515_953_773_935),
            (0.01, 4.0, 3.746_947_387_979_196),
            (0.01, 8.0, 2.896_459_447_709_622),
            (0.01, 38.0, 2.428_567_630_859_087_3),
            (0.05, 2.5, 2.558_218_614_135_935_5),
            (0.05 / 120.0, 8.0, 5.189_191_474_202_579),
            (0.2, 3.0, 0.978_472_312_363_304_2),
        ] {
            let got = t_upper(alpha, df);
            assert!(close(got, t, 1e-7), "alpha {alpha} df {df}: {got} != {t}");
            assert!(close(t_sf(t, df), alpha, 1e-7), "sf({t}, {df}) = {}", t_sf(t, df));
        }
        assert!(close(t_upper(0.01, f64::INFINITY), 2.326_347_874_040_841, 1e-10));
        assert!(close(t_sf(-2.0, 5.0), 1.0 - t_sf(2.0, 5.0), 1e-14));
    }

    #[test]
    fn fisher_f_matches_closed_forms() {
        // F(1, d) is t(d) squared; F(2, d) has the upper tail (1 + 2x/d)^(-d/2).
        for (t, df) in [(2.0, 5.0), (3.746_947_387_979_196, 4.0), (0.5, 30.0)] {
            assert!(close(f_sf(t * t, 1.0, df), 2.0 * t_sf(t, df), 1e-10), "t {t} df {df}");
        }
        for (x, d) in [(1.0, 4.0), (3.5, 10.0), (0.2, 61.0)] {
            assert!(close(f_sf(x, 2.0, d), (1.0 + 2.0 * x / d).powf(-d / 2.0), 1e-10), "x {x} d {d}");
        }
        assert_eq!(f_sf(0.0, 3.0, 7.0), 1.0);
        assert_eq!(f_sf(f64::INFINITY, 3.0, 7.0), 0.0);
    }
}
