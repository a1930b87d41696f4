//! What the seeded simulators (tests/stats_sim.rs, history_sim.rs, duet_sim.rs) and the fuzzer
//! (tests/fuzz.rs) share: a small seedable generator with the draws they use, and the Wilson
//! interval the simulators' tables report rates with. Each keeps its own model.

/// SplitMix64: small, seedable, good enough for simulation.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on 0..n (0 for n = 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True once in `one_in` on average.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    /// Uniform on (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }

    /// Student t with 4 df, scaled to unit variance: heavy-tailed run noise.
    pub fn t4(&mut self) -> f64 {
        let chi2: f64 = (0..4).map(|_| self.normal().powi(2)).sum();
        self.normal() / (chi2 / 4.0).sqrt() / 2f64.sqrt()
    }

    /// Poisson with mean `lambda` (normal approximation above 50).
    pub fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda > 50.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0);
        }
        let (limit, mut k, mut p) = ((-lambda).exp(), 0.0, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

/// Wilson 95% interval of k successes in n.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    let (k, n, z) = (k as f64, n as f64, 1.959_963_984_540_054);
    let center = (k + z * z / 2.0) / (n + z * z);
    let half = z / (n + z * z) * (k * (n - k) / n + z * z / 4.0).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// k of n as a percentage with its Wilson interval: `12.34% [10.10, 14.80]`.
pub fn rate(k: u64, n: u64) -> String {
    let (lo, hi) = wilson(k, n);
    format!("{:5.2}% [{:.2}, {:.2}]", 100.0 * k as f64 / n as f64, 100.0 * lo, 100.0 * hi)
}
