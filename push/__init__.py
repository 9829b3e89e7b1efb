"""Delivery of notifications to phones (FCM and a log provider).

This package knows device tokens and providers and imports nothing from ``server``: the
notifications feature hands it fully rendered messages and gets back per-token results.
"""
