"""Shaping catalog/listings responses into rows; batching and rate-limit floors (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from splake.items.convert import to_table
from splake.items.plan import catalog_batches, min_duration, time_slices
from splake.items.rows import best_display_rank, catalog_row, listing_row
from splake.items.schemas import CATALOG_ITEMS, LISTINGS_ITEMS
from splake.spapi.usage_plans import load_model

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _static_example(model: str, path: str) -> dict:
    """The 200 response example of the official model (Amazon's own sample data)."""
    spec = load_model(model)["paths"][path]["get"]
    return spec["responses"]["200"]["examples"]["application/json"]


def test_catalog_row_from_official_sandbox_example() -> None:
    item = _static_example("catalogItems_2022-04-01.json", "/catalog/2022-04-01/items/{asin}")
    mp = item["summaries"][0]["marketplaceId"]
    row = catalog_row(item, mp, NOW)
    assert row["asin"] == item["asin"]
    assert row["item_name"] == item["summaries"][0]["itemName"]
    ranks = item["salesRanks"][0]
    all_ranks = [r["rank"] for r in ranks.get("displayGroupRanks", [])] or [
        r["rank"] for r in ranks["classificationRanks"]
    ]
    assert row["sales_rank"] == min(all_ranks)
    assert len(row["images"]) == len(item["images"][0]["images"])
    assert json.loads(row["attributes_json"]) == item["attributes"]
    table = to_table([row], CATALOG_ITEMS)
    assert table.num_rows == 1 and table.schema == CATALOG_ITEMS


def test_listing_row_from_official_sandbox_example_and_404() -> None:
    body = _static_example("listingsItems_2021-08-01.json", "/listings/2021-08-01/items/{sellerId}/{sku}")
    mp = body["summaries"][0]["marketplaceId"]
    row = listing_row("SELLER", body["sku"], mp, body, NOW)
    assert row["found"] is True and row["asin"] == body["summaries"][0]["asin"]
    assert row["status"] == body["summaries"][0]["status"]
    assert row["buyable"] == ("BUYABLE" in body["summaries"][0]["status"])
    gone = listing_row("SELLER", "SKU", mp, None, NOW)
    assert gone["found"] is False and gone["status"] is None
    table = to_table([row, gone], LISTINGS_ITEMS)
    assert table.column("found").to_pylist() == [True, False]


def test_best_display_rank_prefers_display_groups() -> None:
    ranks = {
        "classificationRanks": [{"classificationId": "c", "title": "t", "rank": 3}],
        "displayGroupRanks": [
            {"websiteDisplayGroup": "g1", "rank": 50},
            {"websiteDisplayGroup": "g2", "rank": 7},
        ],
    }
    assert best_display_rank(ranks) == (7, "g2")
    assert best_display_rank({"classificationRanks": [{"classificationId": "c", "rank": 3}]}) == (3, "c")
    assert best_display_rank(None) == (None, None)


def test_catalog_batches_dedupe_and_cap_at_20() -> None:
    batches = catalog_batches("M", [f"B{i:09d}" for i in range(45)] + ["B000000001"])
    assert [len(b.identifiers) for b in batches] == [20, 20, 5]
    assert len({i for b in batches for i in b.identifiers}) == 45
    with pytest.raises(ValueError):
        catalog_batches("M", ["x"], size=21)


def test_min_duration_token_bucket_floor() -> None:
    assert min_duration(10, 5.0, 10) == 0
    assert min_duration(2000, 5.0, 10) == pytest.approx(398.0)
    assert min_duration(100, 2.0, 2) == pytest.approx(49.0)


def test_time_slices_cover_the_range_exactly() -> None:
    from datetime import timedelta

    s = time_slices(NOW, NOW + timedelta(days=10), timedelta(days=3))
    assert [x.end - x.start for x in s] == [timedelta(days=3)] * 3 + [timedelta(days=1)]
    assert s[0].start == NOW and s[-1].end == NOW + timedelta(days=10)


def test_split_pii_keeps_pii_out_of_the_raw_record() -> None:
    from splake.items.orders import order_row, split_pii

    order = {
        "AmazonOrderId": "111-1",
        "PurchaseDate": "2026-11-20T10:00:00Z",
        "LastUpdateDate": "2026-11-21T10:00:00Z",
        "OrderStatus": "Shipped",
        "BuyerInfo": {"BuyerEmail": "a@marketplace.amazon.com", "BuyerName": "A"},
        "ShippingAddress": {
            "Name": "A",
            "AddressLine1": "1 Main St",
            "City": "Seattle",
            "PostalCode": "98101",
        },
    }
    clean, pii = split_pii(order)
    assert "BuyerInfo" not in clean and clean["ShippingAddress"] == {"City": "Seattle", "PostalCode": "98101"}
    assert pii["pii_buyer_info"] == {"buyer_email": "a@marketplace.amazon.com", "buyer_name": "A"}
    row = order_row(order, NOW)
    assert row["pii_shipping_address"]["address_line1"] == "1 Main St"
    assert row["shipping_address"]["city"] == "Seattle"
    assert row["last_update_date"] == datetime(2026, 11, 21, 10, tzinfo=UTC)
    no_pii = order_row(
        {k: v for k, v in order.items() if k != "BuyerInfo"} | {"ShippingAddress": {"City": "X"}}, NOW
    )
    assert no_pii["pii_buyer_info"] is None and no_pii["pii_shipping_address"] is None


def test_shipment_event_row_sums_principal_and_fees() -> None:
    from splake.items.finances import shipment_event_row

    event = {
        "AmazonOrderId": "111-2",
        "MarketplaceName": "Amazon.com",
        "PostedDate": "2026-11-20T10:00:00Z",
        "ShipmentItemList": [
            {
                "SellerSKU": "S",
                "ItemChargeList": [
                    {
                        "ChargeType": "Principal",
                        "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 20.0},
                    },
                    {"ChargeType": "Tax", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 1.5}},
                ],
                "ItemFeeList": [
                    {"FeeType": "Commission", "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -3.0}}
                ],
            },
            {
                "SellerSKU": "T",
                "ItemChargeList": [
                    {
                        "ChargeType": "Principal",
                        "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 5.0},
                    }
                ],
                "ItemFeeList": [
                    {"FeeType": "Commission", "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -0.75}}
                ],
            },
        ],
    }
    row = shipment_event_row(event, NOW)
    assert row["principal"] == 25.0 and row["fees"] == -3.75 and row["currency"] == "USD"
    assert row["marketplace_id"] == "ATVPDKIKX0DER"
    assert [i["seller_sku"] for i in row["shipment_items"]] == ["S", "T"]
    assert row["shipment_items"][0]["item_charge_list"][1]["charge_amount"]["currency_amount"] == 1.5


def test_token_expiry_is_recognised_only_for_expired_tokens() -> None:
    from splake.errors import ApiError
    from splake.items.next_token import is_token_expired

    expired = ApiError(
        "SP-API listFinancialEvents failed: InvalidInput: The NextToken has expired.",
        status=400,
        operation="x",
    )
    other = ApiError(
        "SP-API listFinancialEvents failed: InvalidInput: PostedAfter is required.", status=400, operation="x"
    )
    assert is_token_expired(expired) and not is_token_expired(other)
    assert not is_token_expired(ValueError("token expired"))
