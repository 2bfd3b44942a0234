"""A cooperative multi-agent environment: agents on a line who are rewarded together for meeting."""
