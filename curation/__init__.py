"""Curating trials in the admin: criteria as rules (the rule builder), criteria versions, example patients."""
