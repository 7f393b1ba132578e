"""How Amazon writes dates and numbers in report files, declared as data.

- :data:`ZONE_OFFSETS`: every time-zone word seen in report dates (``02/05/2020 05:18:00 MEST``), as
  minutes east of UTC. A word not listed here makes its row invalid (quarantined, naming the word) — a
  guess would land a wrong instant.
- :data:`LOCALES`: per marketplace, the order of ``nn/nn/yyyy`` dates (day first in Seller Central
  everywhere but North America) and whether ``1,234`` is a decimal (1.234) or a thousands group (1234).
  Unambiguous forms (``1.234,56``, ``12,5``, ``yyyy/mm/dd``, ISO 8601, ``dd.mm.yyyy``) are read the same in
  every marketplace.
- :data:`NO_VALUE_TOKENS`: what Amazon writes in a typed (number/date/money/bool) cell for "no value", e.g.
  ``--`` in the FBA Fee Preview report's fee columns. Such a cell lands as null instead of quarantining its
  row; only a whole cell equal to a token (after trimming) counts, and string columns keep the text as
  written.
"""

from __future__ import annotations

from dataclasses import dataclass

from splake.errors import ConfigError
from splake.spapi.marketplaces import marketplace

# Minutes east of UTC. Ambiguous words take the meaning of the marketplaces that write them: CST is US
# Central (Amazon.com / .com.mx), IST is India (Amazon.in), GST is Gulf (Amazon.ae).
ZONE_OFFSETS: dict[str, int] = {
    # UTC and Western Europe
    "Z": 0,
    "UTC": 0,
    "GMT": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    # Central / Eastern Europe (German Seller Central writes MEZ/MESZ and MET/MEST)
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "MEZ": 60,
    "MESZ": 120,
    "EET": 120,
    "EEST": 180,
    "TRT": 180,
    "SAST": 120,
    # North America
    "PST": -480,
    "PDT": -420,
    "MST": -420,
    "MDT": -360,
    "CST": -360,
    "CDT": -300,
    "EST": -300,
    "EDT": -240,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    # South America
    "BRT": -180,
    # Asia / Pacific / Middle East
    "JST": 540,
    "SGT": 480,
    "IST": 330,
    "GST": 240,
    "AEST": 600,
    "AEDT": 660,
    "ACST": 570,
    "ACDT": 630,
    "AWST": 480,
}


# Whole-cell "no value" placeholders in typed columns (each with the evidence it really occurs):
# - "--": the FBA Fee Preview report (GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA) writes it in fee columns that do
#   not apply, e.g. the EFN fee towards the listing's own marketplace (caponica/AmazonMwsComplete,
#   ReportFbaPaymentsFeePreviewRecord: ``VALUE_NA = '--'``, used to tell the home marketplace of a row).
# Not declared without such evidence (a guess would turn real bad data into silent nulls): N/A, NA, null.
NO_VALUE_TOKENS: frozenset[str] = frozenset({"--"})


@dataclass(frozen=True)
class CastLocale:
    """How ambiguous date and number forms are read in one marketplace's documents."""

    day_first: bool = True  # 02/05/2020 = 2 May (False: 5 February)
    decimal_comma: bool = False  # 1,234 = 1.234 (False: 1234)


DEFAULT_LOCALE = CastLocale()

# Marketplace code -> locale; marketplaces not listed use DEFAULT_LOCALE (day first, decimal point).
LOCALES: dict[str, CastLocale] = {
    "US": CastLocale(day_first=False),
    "CA": CastLocale(day_first=False),
    "MX": CastLocale(day_first=True),
    "BR": CastLocale(decimal_comma=True),
    "DE": CastLocale(decimal_comma=True),
    "FR": CastLocale(decimal_comma=True),
    "IT": CastLocale(decimal_comma=True),
    "ES": CastLocale(decimal_comma=True),
    "NL": CastLocale(decimal_comma=True),
    "BE": CastLocale(decimal_comma=True),
    "SE": CastLocale(decimal_comma=True),
    "PL": CastLocale(decimal_comma=True),
    "TR": CastLocale(decimal_comma=True),
}


def locale_for(marketplace_id: str | None) -> CastLocale:
    """The locale of a marketplace id (or code); the default for unknown or missing ones."""
    if not marketplace_id:
        return DEFAULT_LOCALE
    try:
        code = marketplace(marketplace_id).code
    except ConfigError:
        return DEFAULT_LOCALE
    return LOCALES.get(code, DEFAULT_LOCALE)
