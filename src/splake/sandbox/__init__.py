"""Local SP-API sandbox: a real HTTP server speaking the SP-API + LWA protocols, with a deterministic world.

from splake.sandbox import SandboxConfig, SandboxServer, World
"""

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.config import SandboxConfig
from splake.sandbox.server import SandboxServer, build_app
from splake.sandbox.world import World

__all__ = ["SandboxAccount", "SandboxConfig", "SandboxServer", "World", "build_app"]
