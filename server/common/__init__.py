"""Shared building blocks every feature uses: time, pagination, text, search, mail, privacy,
jobs and transactions. Nothing here imports a feature package."""
