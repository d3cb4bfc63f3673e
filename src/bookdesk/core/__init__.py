"""What every app shares: the bottom layer, importing no other part of Bookdesk.

Domain errors (errors.py) and their page mapping (pages.py), page access checks, the admin
role mixins, form widgets and time zones, error pages, formatting, periodic-task
registration, and the observability primitives (metrics, request ids, client address,
logging, database metrics).
"""
