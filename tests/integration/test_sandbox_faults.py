"""Fault knobs: injected errors, throttles, latency, broken downloads, FATAL/CANCELLED reports —
reproducible from the seed and switchable at runtime."""

from __future__ import annotations

import gzip
import time
import zlib

import httpx
import pytest

from splake.sandbox import SandboxServer
from tests.support.sandbox_fixtures import SpCaller

PATH = "/sellers/v1/marketplaceParticipations"


def test_error_rate_gives_amazon_5xx_bodies(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    sandbox.configure(error_rate=1.0)
    responses = [sp.get(PATH) for _ in range(12)]
    assert {r.status_code for r in responses} == {500, 503}
    for r in responses:
        err = r.json()["errors"][0]
        assert err["code"] in {"InternalFailure", "ServiceUnavailable"} and err["message"]
        assert "x-amzn-RateLimit-Limit" not in r.headers
    assert sandbox.stats.faults["error_500"] + sandbox.stats.faults["error_503"] == 12
    sandbox.configure(error_rate=0.0)
    assert sp.get(PATH).status_code == 200


def test_spurious_429_without_header(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    sandbox.configure(spurious_429_rate=1.0)
    r = sp.get(PATH)
    assert r.status_code == 429 and r.json()["errors"][0]["code"] == "QuotaExceeded"
    assert "x-amzn-RateLimit-Limit" not in r.headers
    assert sandbox.stats.faults["spurious_429"] == 1


def test_spurious_429_once_hits_the_first_request_per_seller_and_operation_only(
    sandbox: SandboxServer,
) -> None:
    na, eu = SpCaller(sandbox, "seller-na"), SpCaller(sandbox, "seller-eu")
    sandbox.configure(spurious_429_once=["getMarketplaceParticipations"])
    first = na.get(PATH)
    assert first.status_code == 429 and "x-amzn-RateLimit-Limit" not in first.headers
    assert [na.get(PATH).status_code for _ in range(3)] == [200, 200, 200]
    assert eu.get(PATH).status_code == 429 and eu.get(PATH).status_code == 200  # per seller
    assert sandbox.stats.faults["spurious_429"] == 2


def test_slow_responses(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    sandbox.configure(slow_rate=1.0, slow_seconds=0.4)
    t0 = time.monotonic()
    assert sp.get(PATH).status_code == 200
    assert time.monotonic() - t0 >= 0.4


def _done_document(sp: SpCaller) -> str:
    report = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    assert report["processingStatus"] == "DONE"
    doc_id: str = report["reportDocumentId"]
    return doc_id


def test_truncated_download_breaks_content_length(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    doc_id = _done_document(sp)
    _, good = sp.download(doc_id)
    full = len(good.content)
    sandbox.configure(truncate_download_rate=1.0)
    doc = sp.get(f"/reports/2021-06-30/documents/{doc_id}").json()
    with httpx.stream("GET", doc["url"]) as r:
        assert int(r.headers["content-length"]) == full
        got = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in r.iter_raw():
                got += chunk
    assert len(got) < full
    assert sandbox.stats.faults["truncate_download"] == 1


def test_corrupt_gzip_keeps_length_but_fails_to_inflate(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    doc_id = _done_document(sp)
    sandbox.configure(corrupt_gzip_rate=1.0)
    _, bad = sp.download(doc_id)
    assert bad.status_code == 200 and len(bad.content) == int(bad.headers["content-length"])
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(bad.content)


def test_fatal_and_cancel_knobs(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    sandbox.configure(fatal_report_types=["GET_AFN_INVENTORY_DATA"])
    report = sp.wait_report(sp.create_report("GET_AFN_INVENTORY_DATA"))
    assert report["processingStatus"] == "FATAL"
    _, dl = sp.download(report["reportDocumentId"])
    assert "errorDetails" in gzip.decompress(dl.content).decode()
    assert sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))["processingStatus"] == "DONE"
    sandbox.configure(fatal_report_types=[], cancel_rate=1.0)
    assert (
        sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))["processingStatus"] == "CANCELLED"
    )
    sandbox.configure(cancel_rate=0.0, fatal_rate=1.0)
    assert sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))["processingStatus"] == "FATAL"


def test_faults_are_reproducible_from_the_seed(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    def pattern(seed: int) -> list[int]:
        sb: SandboxServer = sandbox_factory(seed=seed, time_scale=0.0, error_rate=0.3, spurious_429_rate=0.2)
        sp = SpCaller(sb, "seller-na")
        return [sp.get(PATH).status_code for _ in range(30)]

    first, second, other = pattern(11), pattern(11), pattern(12)
    assert first == second
    assert first != other
    assert {200, 429} <= set(first) and ({500, 503} & set(first))


def test_config_endpoint(sandbox: SandboxServer) -> None:
    r = httpx.post(sandbox.url + "/_sandbox/config", json={"error_rate": 0.25, "processing_seconds": 5})
    assert r.status_code == 200 and r.json()["error_rate"] == 0.25
    assert sandbox.state.config.processing_seconds == 5
    bad = httpx.post(sandbox.url + "/_sandbox/config", json={"seed": 3})
    assert bad.status_code == 400 and "seed" in bad.json()["error"]
    bad = httpx.post(sandbox.url + "/_sandbox/config", json={"error_rate": 2})
    assert bad.status_code == 400
    stats = httpx.get(sandbox.url + "/_sandbox/stats").json()
    assert set(stats) >= {"requests", "throttled", "faults", "token_grants"}


def test_fba_cooldown_makes_repeat_requests_fatal(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    # 50 modelled minutes at time_scale 0.001 = 3 s of real time.
    sb: SandboxServer = sandbox_factory(fba_cooldown_seconds=3000)
    sp = SpCaller(sb, "seller-na")
    first = sp.wait_report(sp.create_report("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))
    again = sp.wait_report(sp.create_report("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))
    other_type = sp.wait_report(sp.create_report("GET_AFN_INVENTORY_DATA"))
    assert (first["processingStatus"], again["processingStatus"], other_type["processingStatus"]) == (
        "DONE",
        "FATAL",
        "DONE",
    )
    assert "reportDocumentId" not in again
    time.sleep(3.1)
    assert (
        sp.wait_report(sp.create_report("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))["processingStatus"]
        == "DONE"
    )
    assert sb.stats.faults["fba_cooldown"] == 1


def test_schema_drift_adds_columns_to_documents_and_ground_truth(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    plain = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    sandbox.configure(schema_drift=True)
    drifted = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    header_plain = (
        gzip.decompress(sp.download(plain["reportDocumentId"])[1].content).decode("cp1252").split("\n")[0]
    )
    text = gzip.decompress(sp.download(drifted["reportDocumentId"])[1].content).decode("cp1252")
    header = text.split("\n")[0].split("\t")
    assert header[: len(header_plain.split("\t"))] == header_plain.split("\t")
    assert header[-4:] == [
        "Business Price",
        "Quantity Price Type",
        "Quantity Lower Bound 1",
        "Quantity Price 1",
    ]
    first = dict(zip(header, text.split("\n")[1].split("\t"), strict=True))
    from datetime import datetime

    truth = sandbox.world.report_rows(
        "GET_MERCHANT_LISTINGS_ALL_DATA",
        sp.account.selling_partner_id,
        drifted["marketplaceIds"],
        datetime.fromisoformat(drifted["dataStartTime"]),
        datetime.fromisoformat(drifted["dataEndTime"]),
        as_of=datetime.fromisoformat(drifted["createdTime"]),
    )
    assert first == truth[0]


def test_spread_fault_schedule_injects_every_fault_at_its_rate(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    """fault_schedule="spread": of the first n requests a fault could hit, floor(n * rate) or one more get it
    (so a 5% fault happens within the first 20), at a phase that depends on the seed; counted per kind."""
    patterns = []
    for seed in (3, 4):
        sb: SandboxServer = sandbox_factory(
            seed=seed, time_scale=0.0, spurious_429_rate=0.05, error_rate=0.1, fault_schedule="spread"
        )
        sp = SpCaller(sb, "seller-na")
        statuses = [sp.get(PATH).status_code for _ in range(60)]
        throttled = [s == 429 for s in statuses]
        for n in range(1, 61):
            assert n // 20 <= sum(throttled[:n]) <= n // 20 + 1, (seed, n, statuses)
        # the 5xx draw is made only for requests that were not throttled
        assert sb.stats.fault_draws["spurious_429"] == 60
        assert sb.stats.fault_draws["error_5xx"] == 60 - sum(throttled)
        errors = sum(s >= 500 for s in statuses)
        assert int(0.1 * (60 - sum(throttled))) <= errors <= int(0.1 * (60 - sum(throttled))) + 1
        patterns.append(statuses)
    assert patterns[0] != patterns[1]  # the phase comes from the seed


def test_unknown_fault_schedule_is_refused() -> None:
    from splake.errors import ConfigError
    from splake.sandbox import SandboxConfig

    with pytest.raises(ConfigError, match="fault_schedule"):
        SandboxConfig(fault_schedule="always")
