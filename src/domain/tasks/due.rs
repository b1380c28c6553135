//! Due dates: all-day (a calendar date) or timed (a local wall-clock time in an IANA time zone,
//! with the UTC instant it names). The time-zone database is built into the binary (jiff's
//! bundled tzdb), so a machine without system tzdata resolves zones the same way.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use super::{Invalid, Problem};

/// A task's due date, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub date: Date,
    /// For a timed due: its local time of day, its zone, and the instant they name.
    pub time: Option<DueTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTime {
    pub time: Time,
    /// The zone's canonical IANA name.
    pub zone: String,
    /// Unix seconds.
    pub at: i64,
}

/// A due as a client sends it. `at` is what a response carries; sent back, it is ignored (it is
/// derived from the rest).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "date": "2026-12-24", "time": "09:30", "time_zone": "Europe/Berlin" }))]
pub struct DueInput {
    /// `YYYY-MM-DD`: the local date.
    #[schema(example = "2026-12-24")]
    pub date: String,
    /// `HH:MM` or `HH:MM:SS`, local to `time_zone`; omitted for an all-day due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "09:30")]
    pub time: Option<String>,
    /// An IANA time zone name; required with `time`, refused without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Europe/Berlin")]
    pub time_zone: Option<String>,
    /// Read-only: the UTC instant of a timed due. Ignored on input.
    #[serde(default, skip_serializing)]
    #[schema(read_only, example = "2026-12-24T08:30:00Z")]
    pub at: Option<String>,
}

impl DueInput {
    /// Resolves the due: a timed one to its instant. A local time in a DST gap moves forward by
    /// the gap's length, and one in a fold is the earlier instant (RFC 5545's rule, jiff's
    /// "compatible" disambiguation).
    pub fn resolve(&self) -> Result<Due, Invalid> {
        let mut problems = Vec::new();
        let date = parse_date(&self.date)
            .map_err(|message| problems.push(problem("due.date", message)))
            .ok();
        let time = self
            .time
            .as_deref()
            .map(parse_time)
            .transpose()
            .map_err(|message| problems.push(problem("due.time", message)))
            .ok()
            .flatten();
        let zone = self
            .time_zone
            .as_deref()
            .map(parse_zone)
            .transpose()
            .map_err(|message| problems.push(problem("due.time_zone", message)))
            .ok()
            .flatten();
        match (&self.time, &self.time_zone) {
            (Some(_), None) => {
                problems.push(problem("due.time_zone", "is required with a time (an IANA name)"))
            }
            (None, Some(_)) => problems.push(problem(
                "due.time",
                "is required with a time zone (an all-day due has neither)",
            )),
            _ => {}
        }
        if !problems.is_empty() {
            return Err(Invalid(problems));
        }
        let Some(date) = date else { return Err(Invalid::field("due.date", "is required")) };
        let time = match (time, zone) {
            (Some(time), Some((zone, name))) => {
                let at = zone
                    .to_timestamp(DateTime::from_parts(date, time))
                    .map_err(|_| Invalid::field("due.date", "is out of range"))?
                    .as_second();
                Some(DueTime { time, zone: name, at })
            }
            _ => None,
        };
        Ok(Due { date, time })
    }
}

fn problem(field: &str, message: &str) -> Problem {
    Problem { field: field.to_owned(), message: message.to_owned() }
}

/// `YYYY-MM-DD`, a date that exists, years 1 to 9999.
pub fn parse_date(raw: &str) -> Result<Date, &'static str> {
    const MESSAGE: &str = "must be a date as YYYY-MM-DD";
    let bytes = raw.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(n, b)| n == 4 || n == 7 || b.is_ascii_digit());
    if !shape {
        return Err(MESSAGE);
    }
    let date: Date = raw.parse().map_err(|_| "is not a date that exists")?;
    match date.year() >= 1 {
        true => Ok(date),
        false => Err(MESSAGE),
    }
}

/// `HH:MM` or `HH:MM:SS`, 24-hour.
fn parse_time(raw: &str) -> Result<Time, &'static str> {
    const MESSAGE: &str = "must be a time as HH:MM or HH:MM:SS (24-hour)";
    let bytes = raw.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let shape = match bytes.len() {
        5 => bytes[2] == b':' && digits(0..2) && digits(3..5),
        8 => bytes[2] == b':' && bytes[5] == b':' && digits(0..2) && digits(3..5) && digits(6..8),
        _ => false,
    };
    if !shape {
        return Err(MESSAGE);
    }
    let number = |at: usize| {
        i8::try_from(u16::from(bytes[at] - b'0') * 10 + u16::from(bytes[at + 1] - b'0'))
    };
    let (hour, minute) = (number(0).map_err(|_| MESSAGE)?, number(3).map_err(|_| MESSAGE)?);
    let second = if bytes.len() == 8 { number(6).map_err(|_| MESSAGE)? } else { 0 };
    Time::new(hour, minute, second, 0).map_err(|_| MESSAGE)
}

/// An IANA zone name from the built-in database; returns the zone and its canonical name.
pub fn parse_zone(raw: &str) -> Result<(TimeZone, String), &'static str> {
    const MESSAGE: &str = "must be an IANA time zone name such as Europe/Berlin";
    if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(MESSAGE);
    }
    let zone = TimeZone::get(raw).map_err(|_| MESSAGE)?;
    let name = zone.iana_name().unwrap_or(raw).to_owned();
    Ok((zone, name))
}

/// A time of day as served: `HH:MM`, or `HH:MM:SS` when it has seconds.
pub fn time_text(time: Time) -> String {
    match time.second() {
        0 => format!("{:02}:{:02}", time.hour(), time.minute()),
        second => format!("{:02}:{:02}:{second:02}", time.hour(), time.minute()),
    }
}

/// Unix seconds as `2026-12-24T08:30:00Z`.
pub fn instant_text(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map_or_else(|_| String::new(), |at| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

impl Due {
    /// What a due sorts by: a timed due's instant, an all-day due's date at 00:00 UTC (seconds).
    pub fn sort_key(&self) -> i64 {
        match &self.time {
            Some(time) => time.at,
            None => day_start_utc(self.date),
        }
    }

    /// As a client would send it back: the input a merge patch applies to.
    pub fn to_input(&self) -> DueInput {
        DueInput {
            date: self.date.to_string(),
            time: self.time.as_ref().map(|time| time_text(time.time)),
            time_zone: self.time.as_ref().map(|time| time.zone.clone()),
            at: None,
        }
    }
}

/// 00:00 UTC of `date`, in Unix seconds.
pub fn day_start_utc(date: Date) -> i64 {
    TimeZone::UTC.to_timestamp(date.to_datetime(Time::midnight())).map_or(0, |at| at.as_second())
}

/// Today's date in `zone` at the Unix second `now`.
pub fn today_in(zone: &TimeZone, now: i64) -> Date {
    jiff::Timestamp::from_second(now)
        .map(|at| at.to_zoned_datetime(zone.clone()).date())
        .unwrap_or_default()
}

impl Serialize for Due {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("date", &self.date.to_string())?;
        if let Some(time) = &self.time {
            map.serialize_entry("time", &time_text(time.time))?;
            map.serialize_entry("time_zone", &time.zone)?;
            map.serialize_entry("at", &instant_text(time.at))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Due {
    /// For replays stored as served: the input form, resolved again.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let input = DueInput::deserialize(deserializer)?;
        input.resolve().map_err(|Invalid(problems)| {
            serde::de::Error::custom(
                problems.first().map_or("invalid due", |p| p.message.as_str()).to_owned(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(date: &str, time: &str, zone: &str) -> Result<Due, Invalid> {
        DueInput {
            date: date.into(),
            time: Some(time.into()),
            time_zone: Some(zone.into()),
            at: None,
        }
        .resolve()
    }

    fn at(date: &str, time: &str, zone: &str) -> String {
        instant_text(timed(date, time, zone).unwrap().time.unwrap().at)
    }

    fn fields(invalid: Invalid) -> Vec<String> {
        invalid.0.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_timed_due_names_its_utc_instant() {
        assert_eq!(at("2026-12-24", "09:30", "Europe/Berlin"), "2026-12-24T08:30:00Z");
        assert_eq!(at("2026-07-01", "09:30:15", "America/New_York"), "2026-07-01T13:30:15Z");
        assert_eq!(at("2026-12-24", "09:30", "UTC"), "2026-12-24T09:30:00Z");
    }

    #[test]
    fn a_time_in_a_dst_gap_moves_forward_by_the_gap() {
        // 2026-03-08 02:30 does not exist in New York (02:00 EST -> 03:00 EDT): 03:30 EDT.
        assert_eq!(at("2026-03-08", "02:30", "America/New_York"), "2026-03-08T07:30:00Z");
        // 2026-03-29 02:30 does not exist in Berlin (02:00 CET -> 03:00 CEST): 03:30 CEST.
        assert_eq!(at("2026-03-29", "02:30", "Europe/Berlin"), "2026-03-29T01:30:00Z");
    }

    #[test]
    fn a_time_in_a_dst_fold_is_the_earlier_instant() {
        // 2026-11-01 01:30 happens twice in New York: first in EDT (UTC-4).
        assert_eq!(at("2026-11-01", "01:30", "America/New_York"), "2026-11-01T05:30:00Z");
        // 2026-10-25 02:30 happens twice in Berlin: first in CEST (UTC+2).
        assert_eq!(at("2026-10-25", "02:30", "Europe/Berlin"), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn invalid_dates_times_and_zones_name_their_field() {
        for (date, time, zone, field) in [
            ("2026-02-30", "09:30", "UTC", "due.date"),
            ("2026-2-3", "09:30", "UTC", "due.date"),
            ("24.12.2026", "09:30", "UTC", "due.date"),
            ("2026-12-24", "24:00", "UTC", "due.time"),
            ("2026-12-24", "9:30", "UTC", "due.time"),
            ("2026-12-24", "09:30:60", "UTC", "due.time"),
            ("2026-12-24", "09:30", "Mars/Olympus", "due.time_zone"),
            ("2026-12-24", "09:30", "+01:00", "due.time_zone"),
        ] {
            assert_eq!(
                fields(timed(date, time, zone).unwrap_err()),
                [field],
                "{date} {time} {zone}"
            );
        }
        let no_zone = DueInput {
            date: "2026-12-24".into(),
            time: Some("09:30".into()),
            ..Default::default()
        };
        assert_eq!(fields(no_zone.resolve().unwrap_err()), ["due.time_zone"]);
        let no_time = DueInput {
            date: "2026-12-24".into(),
            time_zone: Some("UTC".into()),
            ..Default::default()
        };
        assert_eq!(fields(no_time.resolve().unwrap_err()), ["due.time"]);
    }

    #[test]
    fn dues_serialize_as_clients_send_them_plus_the_instant() {
        let all_day =
            DueInput { date: "2026-12-24".into(), ..Default::default() }.resolve().unwrap();
        assert_eq!(
            serde_json::to_value(&all_day).unwrap(),
            serde_json::json!({"date": "2026-12-24"})
        );
        let due = timed("2026-12-24", "09:30", "Europe/Berlin").unwrap();
        let json = serde_json::to_value(&due).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "date": "2026-12-24", "time": "09:30", "time_zone": "Europe/Berlin",
                "at": "2026-12-24T08:30:00Z"
            })
        );
        assert_eq!(serde_json::from_value::<Due>(json).unwrap(), due);
        assert_eq!(all_day.sort_key(), day_start_utc(all_day.date));
    }
}
