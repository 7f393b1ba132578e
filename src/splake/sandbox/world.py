"""The sandbox world: deterministic accounts, products, orders, inventory… derived from the seed.

``World`` is the ground truth that tests compare pipeline output against.
"""

from __future__ import annotations

from splake.sandbox.accounts import SandboxAccount, make_accounts, make_app


class World:
    def __init__(self, seed: int = 7, scale: float = 1.0) -> None:
        self.seed = seed
        self.scale = scale
        self.accounts: tuple[SandboxAccount, ...] = make_accounts(seed)
        app = make_app(seed)
        self.client_id = app.client_id
        self.client_secret = app.client_secret
        self.application_id = app.application_id

    def account(self, account_id: str) -> SandboxAccount:
        for a in self.accounts:
            if a.account_id == account_id:
                return a
        raise KeyError(account_id)

    def account_by_refresh_token(self, refresh_token: str) -> SandboxAccount | None:
        for a in self.accounts:
            if a.refresh_token == refresh_token:
                return a
        return None

    def account_by_selling_partner_id(self, selling_partner_id: str) -> SandboxAccount | None:
        for a in self.accounts:
            if a.selling_partner_id == selling_partner_id:
                return a
        return None
