"""Bookdesk: booking and approval for shared resources."""

__version__ = "0.1.0"
