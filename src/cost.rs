//! Cost per 1000 requests estimated from usage × declared unit prices (the policy's `cost:`
//! block): each item's usage is a constant (per run, or per second of the window) or taken from
//! a `sources:` metric over the run's window; the total is divided by the run's requests.
//!
//! Pure arithmetic: the usages' inputs (a source's mean and sum over the window, the window's
//! length, the request count) are handed in. A missing usage, a missing or zero request count,
//! or a result that is not a finite number makes the estimate unavailable with the reason; it is
//! never 0 and never infinite.

use crate::policy::{CostItem, CostPolicy, Per, Usage};

/// What a source gave over the run's window: the mean of its samples and their sum, and how
/// many there were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceValues {
    pub mean: f64,
    pub sum: f64,
    pub samples: u64,
    /// The samples a complete series would have over the window: `per: sample` sums the
    /// samples, so it needs every one (a gap would count as 0, a cost too low).
    pub expected: u64,
    /// `sum` was scaled by this factor to the whole window (CloudWatch: whole periods cover less
    /// than the run); 1 when not.
    pub sum_scale: f64,
}

impl SourceValues {
    /// The values of a window's mean of `samples` samples out of `expected`.
    pub fn of_mean(mean: f64, samples: u64, expected: u64) -> SourceValues {
        SourceValues { mean, sum: mean * samples as f64, samples, expected, sum_scale: 1.0 }
    }
}

/// One item's share: its usage, how that usage was found, and usage × price.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemCost {
    pub name: String,
    pub usage: f64,
    pub price: f64,
    pub unit: Option<String>,
    pub cost: f64,
    /// `0.5 × 1800 s`, `mean 2.5 of source tasks × 1800 s`, `sum of 30 samples of source invocations`.
    pub how: String,
}

/// The estimate: the run's total cost, its requests, and the cost per 1000 requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub items: Vec<ItemCost>,
    pub total: f64,
    pub requests: u64,
    pub per_1000: f64,
}

/// Why there is no estimate, with every item's share that could be computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Unavailable {
    pub why: String,
    pub items: Vec<ItemCost>,
}

/// The estimate for a run of `window_seconds` with `requests` requests; `source(metric)` gives
/// a source's values over the window, or why it has none.
pub fn estimate(
    policy: &CostPolicy,
    window_seconds: f64,
    requests: Option<u64>,
    source: &dyn Fn(&str) -> Result<SourceValues, String>,
) -> Result<Estimate, Unavailable> {
    let mut items = vec![];
    let mut missing = vec![];
    for item in &policy.items {
        match usage(item, window_seconds, source) {
            Ok((usage, how)) => {
                items.push(ItemCost {
                    name: item.name.clone(),
                    usage,
                    price: item.price,
                    unit: item.unit.clone(),
                    cost: usage * item.price,
                    how,
                });
            }
            Err(why) => missing.push(format!("{}: {why}", item.name)),
        }
    }
    let fail = |why: String, items: Vec<ItemCost>| Err(Unavailable { why, items });
    if !missing.is_empty() {
        return fail(format!("usage unavailable: {}", missing.join("; ")), items);
    }
    let total: f64 = items.iter().map(|i| i.cost).sum();
    let requests = match requests {
        None => {
            return fail(
                "no request count: give --requests N, or --window-from with the load test's output".into(),
                items,
            );
        }
        Some(0) => return fail("the run made 0 requests; a cost per request needs at least one".into(), items),
        Some(n) => n,
    };
    let per_1000 = total / requests as f64 * 1000.0;
    if !total.is_finite() || !per_1000.is_finite() {
        return fail(format!("the cost is not a finite number (total {total})"), items);
    }
    Ok(Estimate { items, total, requests, per_1000 })
}

/// A usage over a window of `window_seconds` and how it was found (also the requests of
/// `cost.explorer`, counted the same way).
pub fn usage_of(
    usage: &Usage,
    window_seconds: f64,
    source: &dyn Fn(&str) -> Result<SourceValues, String>,
) -> Result<(f64, String), String> {
    let item = CostItem { name: String::new(), price: 0.0, unit: None, usage: usage.clone() };
    self::usage(&item, window_seconds, source)
}

/// An item's usage over the window and how it was found.
fn usage(
    item: &CostItem,
    window_seconds: f64,
    source: &dyn Fn(&str) -> Result<SourceValues, String>,
) -> Result<(f64, String), String> {
    let (usage, how) = match &item.usage {
        Usage::Constant { amount, per: Per::Run } => (*amount, format!("{amount} per run")),
        Usage::Constant { amount, per: Per::Second } => {
            (amount * window_seconds, format!("{amount} × {window_seconds} s"))
        }
        Usage::Constant { amount, per: Per::Sample } => {
            return Err(format!("a constant ({amount}) has no samples; use per: second or per: run"));
        }
        Usage::Source { metric, per, scale } => {
            let v = source(metric).map_err(|why| format!("source {metric}: {why}"))?;
            let scaled = if *scale == 1.0 { String::new() } else { format!(" × {scale}") };
            match per {
                Per::Second => (
                    v.mean * window_seconds * scale,
                    format!("mean {} of source {metric} × {window_seconds} s{scaled}", v.mean),
                ),
                Per::Sample => {
                    if v.samples < v.expected {
                        return Err(format!(
                            "source {metric}: per: sample sums the samples, but only {} of the {} expected are present \
                             (a gap would count as 0, a cost too low); fill the gaps, or use per: second",
                            v.samples, v.expected
                        ));
                    }
                    let covered = if v.sum_scale == 1.0 {
                        String::new()
                    } else {
                        format!(" × {} (the run's window over the whole periods read)", v.sum_scale)
                    };
                    (
                        v.sum * v.sum_scale * scale,
                        format!("sum {} of {} samples of source {metric}{covered}{scaled}", v.sum, v.samples),
                    )
                }
                Per::Run => (v.mean * scale, format!("mean {} of source {metric}{scaled}", v.mean)),
            }
        }
    };
    if !usage.is_finite() || usage < 0.0 {
        return Err(format!("usage {usage} is not a finite number >= 0"));
    }
    Ok((usage, how))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, price: f64, usage: Usage) -> CostItem {
        CostItem { name: name.into(), price, unit: None, usage }
    }

    fn fargate() -> CostPolicy {
        CostPolicy {
            metric: "cost_per_1000_req".into(),
            currency: "USD".into(),
            explorer: None,
            items: vec![
                // 2 tasks × 0.5 vCPU: 1 vCPU for every second; 2 × 1 GB.
                item("vcpu", 0.000011244, Usage::Constant { amount: 1.0, per: Per::Second }),
                item("memory", 0.0000012347, Usage::Constant { amount: 2.0, per: Per::Second }),
                item(
                    "requests",
                    0.0000002,
                    Usage::Source { metric: "invocations".into(), per: Per::Sample, scale: 1.0 },
                ),
                item("tasks", 0.01, Usage::Source { metric: "running".into(), per: Per::Second, scale: 1.0 / 3600.0 }),
            ],
        }
    }

    fn sources(metric: &str) -> Result<SourceValues, String> {
        match metric {
            "invocations" => Ok(SourceValues::of_mean(1000.0, 30, 30)),
            "running" => Ok(SourceValues::of_mean(2.0, 30, 30)),
            // 181 of 241 samples: a gappy window.
            "gappy" => Ok(SourceValues::of_mean(10.0, 181, 241)),
            // 3 whole periods of a run 3.5 periods long.
            "periods" => Ok(SourceValues { sum_scale: 3.5 / 3.0, ..SourceValues::of_mean(100.0, 3, 3) }),
            _ => Err("no datapoints".into()),
        }
    }

    #[test]
    fn usage_times_price_over_requests_by_hand() {
        // 1800 s: vcpu 1800 × 0.000011244 = 0.0202392; memory 3600 × 0.0000012347 = 0.00444492;
        // requests 30000 × 0.0000002 = 0.006; tasks 2 × 1800 / 3600 = 1 task-hour × 0.01 = 0.01.
        // Total 0.04068412 over 120000 requests: 0.000339034... per 1000.
        let e = estimate(&fargate(), 1800.0, Some(120_000), &sources).unwrap();
        let costs: Vec<f64> = e.items.iter().map(|i| i.cost).collect();
        let want = [0.0202392, 0.00444492, 0.006, 0.01];
        for (got, want) in costs.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!((e.total - 0.04068412).abs() < 1e-12, "{}", e.total);
        assert!((e.per_1000 - 0.04068412 / 120.0).abs() < 1e-15, "{}", e.per_1000);
        assert_eq!(e.items[0].how, "1 × 1800 s");
        assert_eq!(e.items[2].how, "sum 30000 of 30 samples of source invocations");
        assert!(e.items[3].how.starts_with("mean 2 of source running × 1800 s × 0.000277"), "{}", e.items[3].how);
        // Twice the requests, half the cost per 1000.
        let twice = estimate(&fargate(), 1800.0, Some(240_000), &sources).unwrap();
        assert!((twice.per_1000 * 2.0 - e.per_1000).abs() < 1e-15);
    }

    #[test]
    fn no_usage_or_no_requests_is_unavailable_never_zero_or_infinite() {
        let mut p = fargate();
        p.items.push(item("egress", 0.09, Usage::Source { metric: "bytes".into(), per: Per::Sample, scale: 1e-9 }));
        let u = estimate(&p, 1800.0, Some(1000), &sources).unwrap_err();
        assert_eq!(u.why, "usage unavailable: egress: source bytes: no datapoints");
        assert_eq!(u.items.len(), 4, "the items that could be computed are kept");
        let u = estimate(&fargate(), 1800.0, Some(0), &sources).unwrap_err();
        assert!(u.why.contains("0 requests"), "{}", u.why);
        let u = estimate(&fargate(), 1800.0, None, &sources).unwrap_err();
        assert!(u.why.starts_with("no request count"), "{}", u.why);
        let huge = CostPolicy {
            items: vec![item("x", f64::MAX, Usage::Constant { amount: 10.0, per: Per::Run })],
            ..fargate()
        };
        assert!(estimate(&huge, 1.0, Some(1), &sources).unwrap_err().why.contains("not a finite number"));
        let per_sample =
            CostPolicy { items: vec![item("x", 1.0, Usage::Constant { amount: 1.0, per: Per::Sample })], ..fargate() };
        assert!(estimate(&per_sample, 1.0, Some(1), &sources).unwrap_err().why.contains("has no samples"));
    }

    #[test]
    fn a_per_sample_usage_is_never_under_counted() {
        let one = |metric: &str, per: Per| CostPolicy {
            items: vec![item("x", 1.0, Usage::Source { metric: metric.into(), per, scale: 1.0 })],
            ..fargate()
        };
        // A gappy window: the sum of the samples present is no usage (the gap is not 0)...
        let u = estimate(&one("gappy", Per::Sample), 60.0, Some(1000), &sources).unwrap_err();
        assert!(u.why.contains("only 181 of the 241 expected"), "{}", u.why);
        // ... while its mean still gives a per-second usage.
        assert!(estimate(&one("gappy", Per::Second), 60.0, Some(1000), &sources).is_ok());
        // Whole periods that cover less than the run: the sum is scaled to the run's window.
        let e = estimate(&one("periods", Per::Sample), 210.0, Some(1000), &sources).unwrap();
        assert!((e.total - 350.0).abs() < 1e-9, "{}", e.total);
        assert!(e.items[0].how.contains("× 1.1666"), "{}", e.items[0].how);
    }
}
