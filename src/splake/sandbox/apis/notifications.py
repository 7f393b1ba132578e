"""Sandbox Notifications API v1: destinations and subscriptions (delivery lives in ``sandbox.notify``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.notify import Destination, Subscription
from splake.sandbox.responses import bad_request, not_found, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    async def create_destination(request: Request, caller: Caller) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return bad_request("Request body must be JSON.")
        name = body.get("name") if isinstance(body, dict) else None
        spec = body.get("resourceSpecification") if isinstance(body, dict) else None
        if not name or not isinstance(spec, dict) or len(spec) != 1:
            return bad_request("'name' and exactly one resource in 'resourceSpecification' are required.")
        with state.lock:
            if "sqs" in spec:
                arn = (spec["sqs"] or {}).get("arn", "")
                if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:") or arn.count(":") < 5:
                    return bad_request("Invalid SQS arn.")
                for d in state.destinations.values():
                    if d.kind == "sqs" and d.sqs_arn == arn:
                        return sp_error(
                            409,
                            "Conflict",
                            "A destination with that resource already exists.",
                            d.destination_id,
                        )
                dest = Destination(str(uuid.uuid4()), name, "sqs", sqs_arn=arn)
            elif "eventBridge" in spec:
                eb = spec["eventBridge"] or {}
                if not eb.get("region") or not eb.get("accountId"):
                    return bad_request("'region' and 'accountId' are required for eventBridge.")
                for d in state.destinations.values():
                    if (
                        d.kind == "eventBridge"
                        and d.account_id == eb["accountId"]
                        and d.region == eb["region"]
                    ):
                        return sp_error(
                            409,
                            "Conflict",
                            "A destination with that resource already exists.",
                            d.destination_id,
                        )
                dest = Destination(
                    str(uuid.uuid4()), name, "eventBridge", region=eb["region"], account_id=eb["accountId"]
                )
            else:
                return bad_request("Unknown resource type in 'resourceSpecification'.")
            state.destinations[dest.destination_id] = dest
        return sp_json({"payload": _destination_json(state, dest)})

    async def get_destinations(request: Request, caller: Caller) -> Response:
        with state.lock:
            dests = list(state.destinations.values())
        return sp_json({"payload": [_destination_json(state, d) for d in dests]})

    async def get_destination(request: Request, caller: Caller) -> Response:
        dest = state.destinations.get(request.path_params["destinationId"])
        if dest is None:
            return not_found("Destination not found.")
        return sp_json({"payload": _destination_json(state, dest)})

    async def delete_destination(request: Request, caller: Caller) -> Response:
        with state.lock:
            dest = state.destinations.pop(request.path_params["destinationId"], None)
        if dest is None:
            return not_found("Destination not found.")
        return sp_json({})

    async def create_subscription(request: Request, caller: Caller) -> Response:
        ntype = request.path_params["notificationType"]
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return bad_request("Request body must be JSON.")
        if not isinstance(body, dict) or not body.get("payloadVersion") or not body.get("destinationId"):
            return bad_request("'payloadVersion' and 'destinationId' are required.")
        seller = caller.selling_partner_id or ""
        with state.lock:
            dest = state.destinations.get(body["destinationId"])
            if dest is None:
                return not_found("Destination not found.")
            if ntype.startswith("LISTINGS_ITEM_") and dest.kind != "eventBridge":
                return bad_request(
                    f"{ntype} notifications can only be delivered to an EventBridge destination."
                )
            for sub in state.subscriptions_for(ntype, seller):
                return sp_error(409, "Conflict", "Subscription already exists.", sub.subscription_id)
            sub = Subscription(
                str(uuid.uuid4()),
                ntype,
                seller,
                dest.destination_id,
                str(body["payloadVersion"]),
                body.get("processingDirective"),
            )
            state.subscriptions[sub.subscription_id] = sub
        return sp_json({"payload": _subscription_json(sub)})

    async def get_subscription(request: Request, caller: Caller) -> Response:
        ntype = request.path_params["notificationType"]
        subs = state.subscriptions_for(ntype, caller.selling_partner_id or "")
        if not subs:
            return not_found(f"No subscription for {ntype}.")
        return sp_json({"payload": _subscription_json(subs[0])})

    async def get_subscription_by_id(request: Request, caller: Caller) -> Response:
        sub = state.subscriptions.get(request.path_params["subscriptionId"])
        if sub is None or sub.notification_type != request.path_params["notificationType"]:
            return not_found("Subscription not found.")
        return sp_json({"payload": _subscription_json(sub)})

    async def delete_subscription_by_id(request: Request, caller: Caller) -> Response:
        with state.lock:
            sub = state.subscriptions.get(request.path_params["subscriptionId"])
            if sub is None or sub.notification_type != request.path_params["notificationType"]:
                return not_found("Subscription not found.")
            del state.subscriptions[sub.subscription_id]
        return sp_json({})

    n = "/notifications/v1"
    return [
        sp_route(state, "GET", f"{n}/destinations", "getDestinations", get_destinations),
        sp_route(state, "POST", f"{n}/destinations", "createDestination", create_destination),
        sp_route(state, "GET", f"{n}/destinations/{{destinationId}}", "getDestination", get_destination),
        sp_route(
            state, "DELETE", f"{n}/destinations/{{destinationId}}", "deleteDestination", delete_destination
        ),
        sp_route(
            state, "GET", f"{n}/subscriptions/{{notificationType}}", "getSubscription", get_subscription
        ),
        sp_route(
            state,
            "POST",
            f"{n}/subscriptions/{{notificationType}}",
            "createSubscription",
            create_subscription,
        ),
        sp_route(
            state,
            "GET",
            f"{n}/subscriptions/{{notificationType}}/{{subscriptionId}}",
            "getSubscriptionById",
            get_subscription_by_id,
        ),
        sp_route(
            state,
            "DELETE",
            f"{n}/subscriptions/{{notificationType}}/{{subscriptionId}}",
            "deleteSubscriptionById",
            delete_subscription_by_id,
        ),
    ]


def _destination_json(state: SandboxState, dest: Destination) -> dict[str, Any]:
    resource = dest.resource()
    if dest.kind == "eventBridge":
        # The partner event source Amazon creates in the customer's account.
        source = f"aws.partner/sellingpartnerapi.amazon.com/{dest.account_id}/{state.world.application_id}"
        resource = {"eventBridge": {"name": source, "region": dest.region, "accountId": dest.account_id}}
    return {"name": dest.name, "destinationId": dest.destination_id, "resource": resource}


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subscriptionId": sub.subscription_id,
        "payloadVersion": sub.payload_version,
        "destinationId": sub.destination_id,
    }
    if sub.processing_directive:
        out["processingDirective"] = sub.processing_directive
    return out
