"""Billing: the profiles that say which app taxes, invoices and collects payment, and how."""
