//! A log-bucket histogram for latencies once exact samples no longer fit the memory budget.
//!
//! Bucket `i` holds the values in `(γ^(i-1), γ^i]` with `γ = (1 + α) / (1 - α)`; a bucket is
//! represented by `2γ^i / (γ + 1)`, which is within a relative error `α` of every value in it
//! (the DDSketch mapping). Ranks are exact (counts are exact), so the value found for a rank is
//! within `α` of the true sample at that rank, and k6's interpolation between two such values is
//! within `α` of k6's own result. Memory: one `u64` per bucket between the smallest and the
//! largest value seen: at most about 11,000 buckets (88 KB) from 1 µs to 1 hour.

/// Relative accuracy of every value read from the histogram.
pub const ALPHA: f64 = 0.001;

/// Values at or below this (ms) are counted as zero.
const TINY: f64 = 1e-9;

#[derive(Debug, Clone)]
pub struct LogHistogram {
    ln_gamma: f64,
    zeros: u64,
    /// Index of `counts[0]`.
    lo: i32,
    counts: Vec<u64>,
    n: u64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        let gamma = (1.0 + ALPHA) / (1.0 - ALPHA);
        LogHistogram { ln_gamma: gamma.ln(), zeros: 0, lo: 0, counts: Vec::new(), n: 0 }
    }
}

impl LogHistogram {
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn index(&self, x: f64) -> i32 {
        (x.ln() / self.ln_gamma).ceil() as i32
    }

    fn value(&self, index: i32) -> f64 {
        let gamma = self.ln_gamma.exp();
        2.0 * (index as f64 * self.ln_gamma).exp() / (gamma + 1.0)
    }

    pub fn add(&mut self, x: f64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: f64, count: u64) {
        self.n += count;
        if x <= TINY {
            self.zeros += count;
            return;
        }
        let i = self.index(x);
        *self.slot(i) += count;
    }

    fn slot(&mut self, i: i32) -> &mut u64 {
        if self.counts.is_empty() {
            self.lo = i;
            self.counts.push(0);
        } else if i < self.lo {
            let grow = (self.lo - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.lo = i;
        } else if i >= self.lo + self.counts.len() as i32 {
            self.counts.resize((i - self.lo) as usize + 1, 0);
        }
        &mut self.counts[(i - self.lo) as usize]
    }

    pub fn merge(&mut self, other: &LogHistogram) {
        self.n += other.n;
        self.zeros += other.zeros;
        for (k, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                *self.slot(other.lo + k as i32) += c;
            }
        }
    }

    /// The value of the sample at 0-based `rank` in sorted order (within `ALPHA`).
    pub fn at_rank(&self, rank: u64) -> f64 {
        if rank < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if rank < seen {
                return self.value(self.lo + k as i32);
            }
        }
        self.counts.iter().rposition(|&c| c > 0).map_or(0.0, |k| self.value(self.lo + k as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_within_alpha() {
        let mut x = 1e-4;
        while x < 1e8 {
            let mut h = LogHistogram::default();
            h.add(x);
            let got = h.at_rank(0);
            assert!(((got - x) / x).abs() <= ALPHA * (1.0 + 1e-9), "{x} -> {got}");
            x *= 1.0137;
        }
    }

    #[test]
    fn ranks_are_exact_and_merge_adds() {
        let mut a = LogHistogram::default();
        let mut b = LogHistogram::default();
        for v in [0.0, 1.0, 2.0, 3.0] {
            a.add(v);
        }
        for v in [100.0, 0.5] {
            b.add(v);
        }
        a.merge(&b);
        assert_eq!(a.len(), 6);
        let ranks: Vec<f64> = (0..6).map(|r| a.at_rank(r)).collect();
        let want = [0.0, 0.5, 1.0, 2.0, 3.0, 100.0];
        for (got, want) in ranks.iter().zip(want) {
            assert!((got - want).abs() <= want * ALPHA * (1.0 + 1e-9), "{got} vs {want}");
        }
    }
}
