"""`dump_config` writes a TOML file that parses back to the same settings."""

from __future__ import annotations

import tomllib
from datetime import date

from splake.config import dump_config, parse_config, starter_config


def test_starter_config_round_trips() -> None:
    s = parse_config(tomllib.loads(starter_config()))
    assert parse_config(tomllib.loads(dump_config(s))) == s


def test_every_section_round_trips_including_escapes() -> None:
    s = parse_config(
        {
            "log_level": "WARNING",
            "lake": {"path": '/data/lake "prod"\\x', "namespace": "spapi_1"},
            "lwa": {
                "client_id": "amzn1.application-oa2-client.é",
                "token_url": "http://127.0.0.1:9/auth/o2/token",
            },
            "spapi": {"endpoint_override": "http://127.0.0.1:9", "max_retries": 8},
            "sync": {
                "report_types": ["GET_MERCHANT_LISTINGS_ALL_DATA"],
                "start_date": "2026-10-01",
                "poll_initial_seconds": 0.2,
            },
            "notifications": {"enabled": True, "queue_url": "sqlite:/tmp/q.db#n"},
            "accounts": [
                {
                    "id": "s-jp",
                    "region": "FE",
                    "selling_partner_id": "A1",
                    "marketplaces": ["JP"],
                    "pii": True,
                },
                {
                    "id": "v-na",
                    "type": "vendor",
                    "region": "NA",
                    "selling_partner_id": "V1",
                    "marketplaces": ["US"],
                    "report_types": [],
                    "vendor_report_options": {"reportPeriod": "DAY", "sellingProgram": "RETAIL"},
                },
            ],
        }
    )
    text = dump_config(s)
    again = parse_config(tomllib.loads(text))
    assert again == s
    assert again.sync.start_date == date(2026, 10, 1)
    assert "max_retries = 8" in text and "concurrency" not in text  # defaults are left out
