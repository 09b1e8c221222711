"""Customers: who pays, in which currency, and which metered subjects are theirs."""
