//! Summaries of repeated timings (seconds), as the tables report them.

/// The middle of `times` (the upper middle of an even count).
pub fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn min(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

pub fn max(times: &[f64]) -> f64 {
    times.iter().copied().fold(0.0, f64::max)
}
