"""Regions, endpoints and marketplaces (official table), declared as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from splake.errors import ConfigError

RegionCode = Literal["NA", "EU", "FE"]


@dataclass(frozen=True)
class Region:
    code: RegionCode
    endpoint: str
    sandbox_endpoint: str
    aws_region: str


REGIONS: dict[str, Region] = {
    "NA": Region(
        "NA",
        "https://sellingpartnerapi-na.amazon.com",
        "https://sandbox.sellingpartnerapi-na.amazon.com",
        "us-east-1",
    ),
    "EU": Region(
        "EU",
        "https://sellingpartnerapi-eu.amazon.com",
        "https://sandbox.sellingpartnerapi-eu.amazon.com",
        "eu-west-1",
    ),
    "FE": Region(
        "FE",
        "https://sellingpartnerapi-fe.amazon.com",
        "https://sandbox.sellingpartnerapi-fe.amazon.com",
        "us-west-2",
    ),
}

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105


@dataclass(frozen=True)
class Marketplace:
    id: str
    code: str
    country: str
    region: RegionCode
    currency: str
    language: str
    domain: str
    # Charset to assume for flat files when the download's Content-Type has none.
    fallback_charset: str


MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("A2EUQ1WTGCTBG2", "CA", "Canada", "NA", "CAD", "en_CA", "www.amazon.ca", "cp1252"),
    Marketplace("ATVPDKIKX0DER", "US", "United States", "NA", "USD", "en_US", "www.amazon.com", "cp1252"),
    Marketplace("A1AM78C64UM0Y8", "MX", "Mexico", "NA", "MXN", "es_MX", "www.amazon.com.mx", "cp1252"),
    Marketplace("A2Q3Y263D00KWC", "BR", "Brazil", "NA", "BRL", "pt_BR", "www.amazon.com.br", "cp1252"),
    Marketplace("A28R8C7NBKEWEA", "IE", "Ireland", "EU", "EUR", "en_IE", "www.amazon.ie", "cp1252"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "Spain", "EU", "EUR", "es_ES", "www.amazon.es", "cp1252"),
    Marketplace("A1F83G8C2ARO7P", "GB", "United Kingdom", "EU", "GBP", "en_GB", "www.amazon.co.uk", "cp1252"),
    Marketplace("A13V1IB3VIYZZH", "FR", "France", "EU", "EUR", "fr_FR", "www.amazon.fr", "cp1252"),
    Marketplace("AMEN7PMS3EDWL", "BE", "Belgium", "EU", "EUR", "fr_BE", "www.amazon.com.be", "cp1252"),
    Marketplace("A1805IZSGTT6HS", "NL", "Netherlands", "EU", "EUR", "nl_NL", "www.amazon.nl", "cp1252"),
    Marketplace("A1PA6795UKMFR9", "DE", "Germany", "EU", "EUR", "de_DE", "www.amazon.de", "cp1252"),
    Marketplace("APJ6JRA9NG5V4", "IT", "Italy", "EU", "EUR", "it_IT", "www.amazon.it", "cp1252"),
    Marketplace("A2NODRKZP88ZB9", "SE", "Sweden", "EU", "SEK", "sv_SE", "www.amazon.se", "cp1252"),
    Marketplace("AE08WJ6YKNBMC", "ZA", "South Africa", "EU", "ZAR", "en_ZA", "www.amazon.co.za", "utf-8"),
    Marketplace("A1C3SOZRARQ6R3", "PL", "Poland", "EU", "PLN", "pl_PL", "www.amazon.pl", "utf-8"),
    Marketplace("ARBP9OOSHTCHU", "EG", "Egypt", "EU", "EGP", "ar_EG", "www.amazon.eg", "utf-8"),
    Marketplace("A33AVAJ2PDY3EV", "TR", "Turkey", "EU", "TRY", "tr_TR", "www.amazon.com.tr", "utf-8"),
    Marketplace("A17E79C6D8DWNP", "SA", "Saudi Arabia", "EU", "SAR", "ar_SA", "www.amazon.sa", "utf-8"),
    Marketplace(
        "A2VIGQ35RCS4UG", "AE", "United Arab Emirates", "EU", "AED", "en_AE", "www.amazon.ae", "utf-8"
    ),
    Marketplace("A21TJRUUN4KGV", "IN", "India", "EU", "INR", "en_IN", "www.amazon.in", "utf-8"),
    Marketplace("A19VAU5U5O7RUS", "SG", "Singapore", "FE", "SGD", "en_SG", "www.amazon.sg", "utf-8"),
    Marketplace("A39IBJ37TRP1C6", "AU", "Australia", "FE", "AUD", "en_AU", "www.amazon.com.au", "utf-8"),
    Marketplace("A1VC38T7YXB528", "JP", "Japan", "FE", "JPY", "ja_JP", "www.amazon.co.jp", "cp932"),
)

_BY_ID = {m.id: m for m in MARKETPLACES}
_BY_CODE = {m.code: m for m in MARKETPLACES} | {"UK": _BY_ID["A1F83G8C2ARO7P"]}


def marketplace(ref: str) -> Marketplace:
    """Look a marketplace up by id (``ATVPDKIKX0DER``) or country code (``US``; ``UK`` = ``GB``)."""
    m = _BY_ID.get(ref) or _BY_CODE.get(ref.upper())
    if m is None:
        raise ConfigError(
            f"unknown marketplace {ref!r}",
            hint="use a marketplace id such as ATVPDKIKX0DER or a country code such as US, DE, JP; "
            "valid codes: " + ", ".join(sorted(_BY_CODE)),
        )
    return m


def region(code: str) -> Region:
    r = REGIONS.get(code.upper())
    if r is None:
        raise ConfigError(f"unknown region {code!r}", hint="use one of NA, EU, FE")
    return r
