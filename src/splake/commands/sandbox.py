"""`splake` commands: sandbox."""

from __future__ import annotations

import time

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    group = typer.Typer(help="The local SP-API sandbox (LWA + SP-API on loopback, deterministic data).")

    @group.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on (keep it on loopback)."),
        port: int = typer.Option(8765, help="Port (0 = any free port)."),
        seed: int = typer.Option(7, help="Seed of the deterministic world and fault RNG."),
        time_scale: float = typer.Option(1.0, help="1.0 = real rate limits/processing times, 0 = none."),
        processing_seconds: float = typer.Option(30.0, help="Report processing time before scaling."),
        scale: float = typer.Option(1.0, help="Multiplies the number of orders/SKUs."),
        public_url: str = typer.Option(
            "", help="Base URL of pre-signed document URLs (default: the server's own http://host:port)."
        ),
        fba_cooldown_seconds: float = typer.Option(
            1800.0, help="FBA snapshot reports regenerate at most this often (Amazon: 30 min; 0 = off)."
        ),
        vendor_data_delay_hours: float = typer.Option(
            72.0, help="Vendor data for a day is available this many hours later (Amazon: 72 h; 0 = off)."
        ),
    ) -> None:
        """Run the sandbox until Ctrl-C; prints the URL, app credentials and refresh tokens."""
        from splake.sandbox import SandboxConfig, SandboxServer

        cfg = SandboxConfig(
            seed=seed,
            time_scale=time_scale,
            host=host,
            port=port,
            processing_seconds=processing_seconds,
            scale=scale,
            public_url=public_url or None,
            fba_cooldown_seconds=fba_cooldown_seconds,
            vendor_data_delay_hours=vendor_data_delay_hours,
        )
        with SandboxServer(cfg) as sb:
            w = sb.world
            typer.echo(f"sandbox listening on {sb.url}")
            typer.echo(f"  LWA token URL : {sb.url}/auth/o2/token")
            typer.echo(f"  client_id     : {w.client_id}")
            typer.echo(f"  client_secret : {w.client_secret}")
            typer.echo(
                f"  application_id: {w.application_id}  (consent page: {sb.url}/apps/authorize/consent)"
            )
            typer.echo(f"  OAuth redirect URIs registered: {', '.join(cfg.oauth_redirect_uris)}")
            typer.echo(
                f'  try onboarding: [lwa] application_id = the above, authorize_url_override = "{sb.url}", '
                f'redirect_uri = "{cfg.oauth_redirect_uris[0]}", then `splake accounts add ID -m US`'
            )
            for a in w.accounts:
                typer.echo(
                    f"  {a.account_id:<10} {a.type:<6} {a.region} spid={a.selling_partner_id} "
                    f"marketplaces={','.join(a.marketplace_ids)}"
                )
                typer.echo(f"             refresh_token={a.refresh_token}")
            typer.echo(f"  knobs: POST {sb.url}/_sandbox/config  stats: GET {sb.url}/_sandbox/stats")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                typer.echo("stopping")

    app.add_typer(group, name="sandbox")
