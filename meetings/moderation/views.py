"""Pages of the audit log: a meeting's for its hosts, everything for operators."""
