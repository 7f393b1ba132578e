"""Onboarding many accounts: authorize (website workflow or self-authorization), discover marketplaces,
check roles, and write the ``[[accounts]]`` entries (``splake accounts``)."""
