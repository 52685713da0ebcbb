//! The exact value of a JSON number, read from its text (issue #21).
//!
//! serde_json keeps every number as it was written (`arbitrary_precision`, `Number::as_str`), so
//! nothing is lost on the way in; this module says when two spellings are one value. A number is
//! read as a sign, its significant digits (no leading or trailing zeros) and the power of ten of
//! the first of them, never through `f64`: `1` = `1.0` = `1e0` = `10e-1` = `0.1e1`, `-0` = `0`,
//! while `9007199254740993` ≠ `9007199254740992` (one `f64`), `1e300` ≠ `1e301` (one saturated
//! `i64`) and `1e999999` (no `f64` at all) = `10e999998`.
//!
//! The same normal form is the number's canonical text ([`Decimal`]'s `Display`), which
//! fingerprints hash: equal values, equal text; different values, different text.

use std::fmt;

/// The exact value of a JSON number: `±d₁.d₂…dₙ × 10^exponent`, borrowed from the number's text.
/// Zero has no digits and no sign.
#[derive(Debug, Clone)]
pub struct Decimal<'a> {
    negative: bool,
    /// From the first non-zero digit of the mantissa to the last, with the mantissa's `.` when
    /// it falls between them (skipped when digits are read).
    digits: &'a str,
    /// The power of ten of the first significant digit (`1.5e3`, `1500`: 3; `0.015`: -2).
    exponent: Exponent,
}

/// An exponent, exact however many digits the text gave it (JSON sets no limit).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exponent {
    /// Below 10^18 in magnitude: every exponent a real document holds.
    Small(i64),
    /// 10^18 or more in magnitude: the digits, without leading zeros.
    Big { negative: bool, magnitude: Box<str> },
}

/// Exponents of this magnitude or more are [`Exponent::Big`]; one form per value.
const SMALL_LIMIT: i64 = 1_000_000_000_000_000_000;

impl<'a> Decimal<'a> {
    /// Reads a JSON number's text (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`). `None` when
    /// `text` is not one; leading zeros are tolerated, as they change no value.
    pub fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let point = mantissa.find('.').unwrap_or(mantissa.len());
        let (whole, fraction) = (&mantissa[..point], mantissa.get(point + 1..));
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let written = match exponent {
            None => None,
            Some(e) => {
                let (negative, digits) = match e.as_bytes().first() {
                    Some(b'-') => (true, &e[1..]),
                    Some(b'+') => (false, &e[1..]),
                    _ => (false, e),
                };
                if !all_digits(digits) {
                    return None;
                }
                Some((negative, digits))
            }
        };
        let is_significant = |b: u8| b.is_ascii_digit() && b != b'0';
        let Some(first) = mantissa.bytes().position(is_significant) else {
            return Some(Decimal::ZERO);
        };
        // A significant digit exists, so there is a last one.
        let last = mantissa.bytes().rposition(is_significant).unwrap_or(first);
        // How far the first significant digit sits from the units place: `12.5` +1, `0.05` -2.
        // Bounded by the text's length, far below 2^62.
        let shift = if first < point {
            count(point - first - 1)
        } else {
            -count(first - point)
        };
        Some(Decimal {
            negative,
            digits: &mantissa[first..=last],
            exponent: Exponent::sum(written, shift),
        })
    }

    const ZERO: Decimal<'static> = Decimal {
        negative: false,
        digits: "",
        exponent: Exponent::Small(0),
    };

    /// The significant digits, as ASCII bytes.
    fn digit_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.digits.bytes().filter(|b| *b != b'.')
    }
}

/// Equal values, whatever their spelling.
impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Decimal<'_>) -> bool {
        self.negative == other.negative
            && self.exponent == other.exponent
            && (self.digits == other.digits || self.digit_bytes().eq(other.digit_bytes()))
    }
}

impl Eq for Decimal<'_> {}

/// The canonical text: one per value, and a JSON number. Integers of up to 20 digits (every
/// `i64` and `u64`) are written plainly; other numbers as serde_json writes an `f64` (fixed
/// point from 10^-5 to below 10^16, else `d.ddde±x`), but with every digit the text had. So
/// plain integers, and floats of up to 15 significant digits, read as the previous releases
/// wrote them (they went through `f64`), and the fingerprints of plans saved then still match.
impl fmt::Display for Decimal<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.digits.is_empty() {
            return out.write_str("0");
        }
        if self.negative {
            out.write_str("-")?;
        }
        // The digits without the point; borrowed when there is none between them (integers).
        let joined: String;
        let digits = if self.digits.contains('.') {
            joined = self.digit_bytes().map(char::from).collect();
            joined.as_str()
        } else {
            self.digits
        };
        let n = count(digits.len());
        match &self.exponent {
            Exponent::Small(p) if *p >= n - 1 && *p < 20 => {
                // An integer of up to 20 digits.
                out.write_str(digits)?;
                for _ in 0..(p - (n - 1)) {
                    out.write_str("0")?;
                }
                Ok(())
            }
            Exponent::Small(p) if (0..16).contains(p) => {
                // Not an integer: digits remain after the units place.
                let units = usize::try_from(*p).unwrap_or(0) + 1;
                write!(out, "{}.{}", &digits[..units], &digits[units..])
            }
            Exponent::Small(p) if (-5..0).contains(p) => {
                out.write_str("0.")?;
                for _ in 0..(-p - 1) {
                    out.write_str("0")?;
                }
                out.write_str(digits)
            }
            exponent => {
                out.write_str(&digits[..1])?;
                if digits.len() > 1 {
                    write!(out, ".{}", &digits[1..])?;
                }
                match exponent {
                    Exponent::Small(p) if *p > 0 => write!(out, "e+{p}"),
                    Exponent::Small(p) => write!(out, "e{p}"),
                    Exponent::Big {
                        negative,
                        magnitude,
                    } => write!(out, "e{}{magnitude}", if *negative { '-' } else { '+' }),
                }
            }
        }
    }
}

impl Exponent {
    /// The written exponent (`None`: none was) plus `shift`, exactly.
    fn sum(written: Option<(bool, &str)>, shift: i64) -> Exponent {
        let Some((negative, digits)) = written else {
            return Exponent::small(shift);
        };
        let digits = digits.trim_start_matches('0');
        if digits.len() <= 18 {
            // Fewer than 19 digits: below 10^18, so it fits, and so does the sum.
            let magnitude: i64 = digits.parse().unwrap_or(0);
            let written = if negative { -magnitude } else { magnitude };
            return Exponent::small(written + shift);
        }
        // |written| >= 10^18 > |shift|: the sum keeps the written sign, and its magnitude is the
        // written one moved by |shift| (added when the signs agree, taken away otherwise).
        let mut magnitude: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let step = shift.unsigned_abs();
        if (shift < 0) == negative {
            add(&mut magnitude, step);
        } else {
            subtract(&mut magnitude, step);
        }
        let text: String = magnitude
            .iter()
            .map(|d| char::from(b'0' + d))
            .skip_while(|c| *c == '0')
            .collect();
        match text.parse::<i64>() {
            Ok(m) if m < SMALL_LIMIT => Exponent::Small(if negative { -m } else { m }),
            _ => Exponent::Big {
                negative,
                magnitude: text.into_boxed_str(),
            },
        }
    }

    fn small(value: i64) -> Exponent {
        if value.abs() < SMALL_LIMIT {
            Exponent::Small(value)
        } else {
            Exponent::Big {
                negative: value < 0,
                magnitude: value.unsigned_abs().to_string().into_boxed_str(),
            }
        }
    }
}

/// `digits` (most significant first, one decimal digit each) plus `step`.
fn add(digits: &mut Vec<u8>, mut step: u64) {
    let mut carry = 0u64;
    for digit in digits.iter_mut().rev() {
        let sum = u64::from(*digit) + step % 10 + carry;
        *digit = u8::try_from(sum % 10).unwrap_or(0);
        carry = sum / 10;
        step /= 10;
        if step == 0 && carry == 0 {
            return;
        }
    }
    let mut rest = step + carry;
    while rest > 0 {
        digits.insert(0, u8::try_from(rest % 10).unwrap_or(0));
        rest /= 10;
    }
}

/// `digits` minus `step`, which is smaller.
fn subtract(digits: &mut [u8], mut step: u64) {
    let mut borrow = 0u64;
    for digit in digits.iter_mut().rev() {
        let take = step % 10 + borrow;
        step /= 10;
        if u64::from(*digit) >= take {
            *digit = u8::try_from(u64::from(*digit) - take).unwrap_or(0);
            borrow = 0;
        } else {
            *digit = u8::try_from(u64::from(*digit) + 10 - take).unwrap_or(0);
            borrow = 1;
        }
        if step == 0 && borrow == 0 {
            return;
        }
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A length as an exponent shift: texts are far shorter than 2^62 bytes.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Decimal<'_> {
        Decimal::parse(text).unwrap_or_else(|| panic!("{text} is a JSON number"))
    }

    fn canonical(text: &str) -> String {
        read(text).to_string()
    }

    #[test]
    fn one_value_many_spellings() {
        for group in [
            &[
                "1", "1.0", "1e0", "10e-1", "0.1e1", "1.00", "1E+0", "100e-2", "0.001e3",
            ][..],
            &["0", "-0", "0.0", "-0.0", "0e5", "0.000e-7"],
            &["1e999999", "10e999998", "0.1e1000000", "1E+999999"],
            &["-2.5", "-25e-1", "-0.25e1", "-2.50"],
            &["1e300", "1e+300", "10e299"],
            &[
                "123456789012345678901234567890",
                "1.23456789012345678901234567890e29",
            ],
        ] {
            for text in group {
                assert_eq!(read(text), read(group[0]), "{text} = {}", group[0]);
                assert_eq!(canonical(text), canonical(group[0]), "{text}");
            }
        }
    }

    #[test]
    fn different_values_stay_apart() {
        for (a, b) in [
            ("9007199254740993", "9007199254740992"),
            ("9007199254740993", "9007199254740992.0"),
            ("1e300", "1e301"),
            ("0.1", "0.10000000000000001"),
            ("1", "-1"),
            ("1e999999", "1e999998"),
            ("1e-999999", "0"),
            ("12", "1.2"),
            ("1.02", "1.2"),
        ] {
            assert_ne!(read(a), read(b), "{a} vs {b}");
            assert_ne!(canonical(a), canonical(b), "{a} vs {b}");
        }
    }

    /// Plain integers and ordinary floats keep the text the previous releases hashed (serde_json
    /// then read numbers as `u64`, `i64` or `f64`, and the canonical writer wrote integral
    /// floats below 2^53 as integers).
    #[test]
    fn canonical_text_is_the_previous_spelling_of_ordinary_numbers() {
        for (text, canonical_text) in [
            ("0", "0"),
            ("-0.0", "0"),
            ("42", "42"),
            ("-7", "-7"),
            ("2.0", "2"),
            ("1e2", "100"),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("2.5", "2.5"),
            ("2.50", "2.5"),
            ("0.1", "0.1"),
            ("-0.5", "-0.5"),
            ("123.456", "123.456"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("0.000012345", "0.000012345"),
            ("0.000001", "1e-6"),
            ("1.5e-7", "1.5e-7"),
            ("1e300", "1e+300"),
            ("1.5e300", "1.5e+300"),
            ("123456789012345.5", "123456789012345.5"),
            ("1e20", "1e+20"),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(canonical(text), canonical_text, "{text}");
        }
        // Past f64: every digit is kept, in the same style.
        assert_eq!(canonical("1e999999"), "1e+999999");
        assert_eq!(canonical("0.10000000000000001"), "0.10000000000000001");
        assert_eq!(
            canonical("1234567890123456789012"),
            "1.234567890123456789012e+21"
        );
    }

    #[test]
    fn exponents_past_any_machine_integer_are_exact() {
        let huge = "99999999999999999999999999999999999999999";
        let plus_one = "100000000000000000000000000000000000000000";
        assert_eq!(read(&format!("10e{huge}")), read(&format!("1e{plus_one}")));
        assert_ne!(read(&format!("1e{huge}")), read(&format!("1e{plus_one}")));
        assert_eq!(canonical(&format!("10e{huge}")), format!("1e+{plus_one}"));
        // 0.01 × 10^-(10^41 - 1) = 10^-(10^41 + 1).
        let past = format!("1{}1", "0".repeat(40));
        assert_eq!(read(&format!("0.01e-{huge}")), read(&format!("1e-{past}")));
        assert_eq!(canonical(&format!("0.01e-{huge}")), format!("1e-{past}"));
        // Around the limit between the two forms, one form per value.
        assert_eq!(
            read("1e999999999999999999"),
            read("0.1e1000000000000000000")
        );
        assert_eq!(read("10e999999999999999999"), read("1e1000000000000000000"));
        assert_eq!(
            read("0.1e1000000000000000000"),
            read("1e0999999999999999999")
        );
        assert_eq!(
            read("100e-1000000000000000001"),
            read("1e-999999999999999999")
        );
        assert_eq!(
            canonical("0.1e1000000000000000000"),
            "1e+999999999999999999"
        );
        assert_eq!(canonical("10e999999999999999999"), "1e+1000000000000000000");
    }

    #[test]
    fn text_that_is_no_number_is_refused() {
        for text in [
            "", "-", "1.", ".5", "1e", "1e+", "0x10", "1.5.2", "NaN", "1 ", "+1",
        ] {
            assert!(Decimal::parse(text).is_none(), "{text:?}");
        }
    }
}
