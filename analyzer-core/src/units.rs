//! Decibel conversions, the one home for `20·log10` and `10·log10` in analyzer-core.
//!
//! Amplitudes (sample values, gains, peaks) convert with 20·log10, powers and energies (mean
//! squares, sums of squares, their ratios) with 10·log10. The two are kept as separate
//! functions rather than one written through the other: `20·log10(a)` and `10·log10(a·a)` are
//! equal on paper but can differ in the last bit, and the report must not change when a call
//! site moves here. Each function is exactly the expression its name says, so replacing an
//! inline `20.0 * x.log10()` by [`amp_to_db`]`(x)` (for `x > 0`) keeps every bit.
//!
//! Zero and negative inputs give minus infinity (silence), NaN too; [`finite`] turns that into
//! `None` for the report, which writes no number for silence.

/// 20·log10 of a linear amplitude; -inf for 0, negative or NaN.
pub fn amp_to_db(amp: f64) -> f64 {
    if amp > 0.0 {
        20.0 * amp.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// [`amp_to_db`] in `f32` arithmetic (for the plugin's meters, which compute in `f32`).
pub fn amp_to_db_f32(amp: f32) -> f32 {
    if amp > 0.0 {
        20.0 * amp.log10()
    } else {
        f32::NEG_INFINITY
    }
}

/// 10·log10 of a power, energy or mean square; -inf for 0, negative or NaN.
pub fn power_to_db(power: f64) -> f64 {
    if power > 0.0 {
        10.0 * power.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Linear amplitude of a level in dB: 10^(dB/20).
pub fn db_to_amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// [`db_to_amp`] in `f32` arithmetic.
pub fn db_to_amp_f32(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Power (energy ratio) of a level in dB: 10^(dB/10).
pub fn db_to_power(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// `Some(x)` for a finite value, `None` for ±inf / NaN (the report writes those as null).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_known_values() {
        assert_eq!(amp_to_db(1.0), 0.0);
        assert!((amp_to_db(0.5) + 6.020_599_913_279_624).abs() < 1e-12);
        assert!((power_to_db(0.5) + 3.010_299_956_639_812).abs() < 1e-12);
        assert_eq!(amp_to_db(0.0), f64::NEG_INFINITY);
        assert_eq!(amp_to_db(-1.0), f64::NEG_INFINITY);
        assert_eq!(power_to_db(f64::NAN), f64::NEG_INFINITY);
        assert_eq!(amp_to_db_f32(0.0), f32::NEG_INFINITY);
        assert!((db_to_amp(-6.020_599_913_279_624) - 0.5).abs() < 1e-12);
        assert!((db_to_power(-10.0) - 0.1).abs() < 1e-15);
        assert!((db_to_amp_f32(20.0) - 10.0).abs() < 1e-5);
        assert_eq!(finite(f64::NEG_INFINITY), None);
        assert_eq!(finite(-3.0), Some(-3.0));
    }
}
