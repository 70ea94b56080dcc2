//! Human ticket numbers `TKT-YYYY-NNNN`: a per-year sequence, at least four digits.

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A ticket number such as `TKT-2025-0001`. Ordered by year, then sequence.
///
/// The sequence is allocated atomically by the store (never duplicated, never reused); this type only
/// formats, parses and orders. The canonical text has exactly four digits below 10,000 and no leading
/// zeros above, so text and value round-trip one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketNumber {
    year: u16,
    seq: u32,
}

impl TicketNumber {
    /// Builds a number; the year must have four digits and the sequence must be at least 1.
    pub fn new(year: i32, seq: u32) -> Result<Self> {
        if !(1000..=9999).contains(&year) {
            return Err(Error::invalid(
                "ticket_id",
                format!("year {year} must have four digits"),
            ));
        }
        if seq == 0 {
            return Err(Error::invalid("ticket_id", "sequence starts at 1"));
        }
        Ok(TicketNumber { year: year as u16, seq })
    }

    /// The calendar year (UTC) the ticket was created in.
    pub fn year(self) -> i32 {
        i32::from(self.year)
    }

    /// The position in that year's sequence, from 1.
    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TKT-{}-{:04}", self.year, self.seq)
    }
}

impl FromStr for TicketNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("ticket_id", format!("{s:?} is not a ticket number like TKT-2025-0001"));
        let rest = s.strip_prefix("TKT-").ok_or_else(bad)?;
        let (year, seq) = rest.split_once('-').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || !digits(seq) || seq.len() < 4 {
            return Err(bad());
        }
        if seq.len() > 4 && seq.starts_with('0') {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        TicketNumber::new(year, seq).map_err(|_| bad())
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_like_the_seed() {
        assert_eq!(TicketNumber::new(2025, 1).unwrap().to_string(), "TKT-2025-0001");
        assert_eq!(TicketNumber::new(2025, 12345).unwrap().to_string(), "TKT-2025-12345");
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "TKT-",
            "TKT-2025-001",
            "TKT-25-0001",
            "tkt-2025-0001",
            "TKT-2025-00001",
            "TKT-2025-0000",
            "TKT-2025-+001",
            "TKT-2025-0001 ",
            "TKT-2025-99999999999",
        ] {
            assert!(s.parse::<TicketNumber>().is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(year in 1000i32..=9999, seq in 1u32..) {
            let n = TicketNumber::new(year, seq).unwrap();
            prop_assert_eq!(n.to_string().parse::<TicketNumber>().unwrap(), n);
        }

        #[test]
        fn text_round_trips(s in "TKT-[0-9]{4}-[0-9]{4,7}") {
            if let Ok(n) = s.parse::<TicketNumber>() {
                prop_assert_eq!(n.to_string(), s);
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = s.parse::<TicketNumber>();
        }

        #[test]
        fn increasing_within_a_year(year in 1000i32..=9999, a in 1u32..1_000_000, b in 1u32..1_000_000) {
            let (x, y) = (TicketNumber::new(year, a).unwrap(), TicketNumber::new(year, b).unwrap());
            prop_assert_eq!(x < y, a < b);
            prop_assert_eq!(x.to_string() < y.to_string() || a >= b || x.to_string().len() < y.to_string().len(), true);
        }
    }
}
