// Dates as the app shows them: the browser's time zone, today and this week in it, a task's due
// date in words (its own zone named when it is not the browser's), and whether it has passed.
// A date is "YYYY-MM-DD" and a time "HH:MM" or "HH:MM:SS", as the API writes them.

/** The browser's IANA time zone ("Europe/Berlin"); UTC if it does not say. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** `zone`'s canonical name, so "Etc/UTC" and "UTC" are one zone; `zone` itself if unknown. */
function canonical(zone) {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return zone;
  }
}

/** Whether `zone` is another zone than the browser's. */
export function isForeignZone(zone) {
  return Boolean(zone) && canonical(zone) !== canonical(browserZone());
}

/** Every zone the browser knows, by name, with `extra` ones (the browser's, a task's) always in. */
export function zoneNames(...extra) {
  const names = new Set(Intl.supportedValuesOf?.("timeZone") ?? []);
  for (const zone of [browserZone(), ...extra]) if (zone) names.add(zone);
  return [...names].sort();
}

const pad = (n) => String(n).padStart(2, "0");

/** The date of `instant` in the browser's zone. */
export function localDate(instant = new Date()) {
  return `${instant.getFullYear()}-${pad(instant.getMonth() + 1)}-${pad(instant.getDate())}`;
}

/** Today in the browser's zone. */
export function today(now = new Date()) {
  return localDate(now);
}

function parts(date) {
  const [year, month, day] = date.split("-").map(Number);
  return { year, month, day };
}

/** `date` plus `days` (calendar arithmetic: no zone or daylight saving involved). */
export function addDays(date, days) {
  const { year, month, day } = parts(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** The first day of the week where the person is: 1 Monday … 7 Sunday (Monday if unknown). */
function firstDayOfWeek() {
  try {
    const locale = new Intl.Locale(navigator.language);
    return (locale.getWeekInfo?.() ?? locale.weekInfo)?.firstDay ?? 1;
  } catch {
    return 1;
  }
}

/** This week's first and last date, in the browser's zone, weeks starting as the locale says. */
export function thisWeek(now = new Date()) {
  const weekday = now.getDay() || 7; // 1 Monday … 7 Sunday
  const from = addDays(today(now), -((weekday - firstDayOfWeek() + 7) % 7));
  return { from, to: addDays(from, 6) };
}

// ---------------------------------------------------------------------------------------------
// In words

// Dates and times are formatted as UTC wall clocks: the values are already local, nothing moves.
const DATE = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});
const SHORT_DATE = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

function asUtc(date, time = "00:00") {
  const { year, month, day } = parts(date);
  const [hour, minute, second = 0] = time.split(":").map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

function timeWords(time) {
  const withSeconds = time.split(":").length > 2 && !time.endsWith(":00");
  return new Intl.DateTimeFormat(undefined, {
    hour: "numeric",
    minute: "2-digit",
    second: withSeconds ? "2-digit" : undefined,
    timeZone: "UTC",
  }).format(asUtc("2000-01-01", time));
}

/** "today", "tomorrow", "yesterday", else the date ("Thu, Dec 24, 2026"). */
export function dayWords(date, now = new Date()) {
  const current = today(now);
  if (date === current) return "today";
  if (date === addDays(current, 1)) return "tomorrow";
  if (date === addDays(current, -1)) return "yesterday";
  return DATE.format(asUtc(date));
}

/**
 * A due in words: "Due tomorrow", "Due today, 9:30 AM", and in another zone than the browser's
 * that zone's wall clock and name, with the browser's own time for it:
 * "Due Thu, Dec 24, 2026, 9:30 AM Europe/Berlin (3:30 AM your time)".
 */
export function dueWords(due, now = new Date()) {
  if (!due) return "";
  if (!due.time) return `Due ${dayWords(due.date, now)}`;
  if (!isForeignZone(due.time_zone)) return `Due ${dayWords(due.date, now)}, ${timeWords(due.time)}`;
  const here = due.at ? new Date(due.at) : null;
  let yours = "";
  if (here && !Number.isNaN(here.getTime())) {
    const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(here);
    const date = localDate(here);
    yours = ` (${date === due.date ? "" : `${SHORT_DATE.format(asUtc(date))}, `}${time} your time)`;
  }
  return `Due ${DATE.format(asUtc(due.date))}, ${timeWords(due.time)} ${due.time_zone}${yours}`;
}

/** An open task whose due has passed: a timed one's instant, or an all-day one's date before today. */
export function isOverdue(task, now = new Date()) {
  if (task.completed || !task.due) return false;
  if (task.due.at) return Date.parse(task.due.at) < now.getTime();
  return task.due.date < today(now);
}
