//! Identifiers, secrets and timestamps in the vendors' formats.

use std::time::{SystemTime, UNIX_EPOCH};

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source does not fail on supported platforms; if it ever did, ids would
    // still be unique per process through the time-based fallback below.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An Ada id: 24 hex digits, like `5df263b7db5a7e6ea03fae9b`.
pub fn ada_id() -> String {
    hex(&random_bytes::<12>())
}

/// A Truto id: a version-4 UUID.
pub fn truto_id() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An OAuth client secret or an emulator token: 32 random bytes, hex.
pub fn secret() -> String {
    hex(&random_bytes::<32>())
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn parts(at: SystemTime) -> (i64, u32, u32, u64, u64, u64, u32) {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil(i64::try_from(secs / 86_400).unwrap_or(0));
    let rem = secs % 86_400;
    (
        y,
        m,
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis(),
    )
}

/// Ada's timestamp format: `2020-09-20T00:00:00+00:00`.
pub fn ada_timestamp(at: SystemTime) -> String {
    let (y, m, d, hh, mm, ss, _) = parts(at);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+00:00")
}

/// Truto's timestamp format: `2021-08-10T10:00:00.000Z`.
pub fn truto_timestamp(at: SystemTime) -> String {
    let (y, m, d, hh, mm, ss, ms) = parts(at);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats() {
        let at = UNIX_EPOCH + Duration::from_millis(1_628_589_600_123);
        assert_eq!(ada_timestamp(at), "2021-08-10T10:00:00+00:00");
        assert_eq!(truto_timestamp(at), "2021-08-10T10:00:00.123Z");
        assert_eq!(
            ada_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00+00:00"
        );
        assert_eq!(ada_id().len(), 24);
        let uuid = truto_id();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_ne!(ada_id(), ada_id());
    }
}
