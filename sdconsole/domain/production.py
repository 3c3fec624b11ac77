"""Provides production calendars: public holidays, transferred days and pre-holiday short days.

The facts come from the `holidays` package (pinned in pyproject.toml; DOMAIN.md §3.7–3.8): its
country classes list the non-working holidays and the days off a government decree moved, and
`weekend_workdays` holds the weekend days a decree made working.

Shortened days are not in the package; for Russia they are derived here (ТК РФ ст. 95 and the
production calendars the Ministry of Labour publishes):

- a day whose next calendar day is a non-working public holiday (ст. 112: 1–8 January,
  23 February, 8 March, 1 and 9 May, 12 June, 4 November) is one hour shorter. A day before a
  day off that a decree moved (31 December 2025, 8 May 2025) is not, nor is the Friday before a
  weekend that precedes a holiday (20 February 2026);
- a working Saturday a decree swapped with a day that would itself have been shortened inherits
  the short day: 2 November 2024 (swapped with 30 April) and 1 November 2025 (swapped with
  3 November) are short; 27 April 2024 and 28 December 2024 (swapped with 29 and 30 December
  ordinary days) are full days.

The per-year facts are computed once per (country, year) and shared by every calendar.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

from sdconsole.domain.errors import InvalidInput
from sdconsole.i18n import N_

SHORTENING_COUNTRIES = frozenset({"RU"})
"""Countries whose pre-holiday days are one hour shorter (Russia: ТК РФ ст. 95)."""

_SUBSTITUTED_FROM = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
"""The date in a Russian "Выходной (перенесено с 01.11.2025)" label: the day the rest moved from."""


@dataclass(frozen=True, slots=True)
class YearFacts:
    """One year of a country's production calendar."""

    days_off: frozenset[date]
    """Public holidays and days off moved by decree, whatever the weekday."""
    working_weekend_days: dict[date, date | None]
    """Weekend days a decree made working → the day off they were swapped with (if known)."""
    short_days: frozenset[date]
    """Days one hour shorter than usual (empty for countries without that rule)."""


def check_country(code: str) -> str:
    """The upper-cased code if the `holidays` package knows the country, else `InvalidInput`."""
    upper = code.strip().upper()
    if upper not in holidays.list_supported_countries():
        raise InvalidInput(N_("Unknown production calendar {code}."), code=code)
    return upper


@functools.cache
def year_facts(country: str, year: int) -> YearFacts:
    """The production calendar of `country` (an upper-case ISO code) for `year`."""
    around = (year - 1, year, year + 1)
    language = "ru" if country == "RU" else None
    table = holidays.country_holidays(country, years=around, language=language)
    days_off = frozenset(d for d in table if d.year == year)
    pairs: dict[date, date | None] = {d: None for d in table.weekend_workdays if d.year == year}
    statutory: set[date] = set()
    if country == "RU":
        # A substituted day off names the weekend day it came from: pair it with its working day.
        for day_off, name in table.items():
            found = _SUBSTITUTED_FROM.search(name)
            if found is None:
                continue
            day, month, from_year = (int(g) for g in found.groups())
            source = date(from_year, month, day)
            if source in pairs:
                pairs[source] = day_off
        # Statutory holidays only: neither a moved day off nor an "observed" replacement.
        plain = holidays.country_holidays(country, years=around, language="ru", observed=False)
        statutory = {d for d, name in plain.items() if _SUBSTITUTED_FROM.search(name) is None}
    short: set[date] = set()
    if country in SHORTENING_COUNTRIES:
        one = timedelta(days=1)
        first, last = date(year, 1, 1), date(year, 12, 31)
        short = {d - one for d in statutory if first <= d - one <= last and d - one not in table}
        short |= {w for w, off in pairs.items() if off is not None and off + one in statutory}
    return YearFacts(days_off, pairs, frozenset(short))
